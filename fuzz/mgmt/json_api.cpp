// Fuzzes one management request line (the bytes a unix-socket client sends)
// through mgmt::JsonApi (src/mgmt/json_api.h) against a small deterministic
// backend that answers every call at once. Asserts what the API promises:
//  - exactly one reply per request;
//  - the reply is one line of valid JSON, an object with a numeric 32-bit
//    "Status", the matching "StatusName" and, if present, a string "Message";
//  - a failed request never reaches the backend's mutating calls
//    (ExecuteSetPolicy, UpdateDefaults, ClearCounters, SaveConfig,
//    SimControl::Execute), unless the failure is that call's own status
//    (UpdateDefaults runs PolicyDefaults' own checks, json_api.h);
//  - a request for a read never mutates, a successful write mutated once;
//  - a plan handed to ExecuteSetPolicy came from the snapshot the backend
//    gave out (designator, generation) and commits on it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dsm/lb_defaults.h"
#include "dsm/lb_management.h"
#include "dsm/path_state.h"
#include "dsm/topology.h"
#include "mgmt/backend.h"
#include "mgmt/json_api.h"
#include "scsi/vpd.h"

namespace {

namespace dsm = openmpio::dsm;
namespace mgmt = openmpio::mgmt;
namespace scsi = openmpio::scsi;
using openmpio::Expected;
using openmpio::MakeUnexpected;
using openmpio::NtStatus;
using openmpio::Status;

[[noreturn]] void Violation(const char* what, std::string_view request, const std::string& reply) {
  std::fprintf(stderr, "json_api invariant violated: %s\nrequest: %.*s\nreply: %s\n", what,
               static_cast<int>(request.size()), request.data(), reply.c_str());
  std::abort();
}

// An NAA-6 LU designator (association 00, type 3): "naa.60014050112233NN".
scsi::Designator Naa(std::uint8_t last) {
  scsi::Designator d;
  d.code_set = scsi::CodeSet::kBinary;
  d.association = scsi::Association::kLogicalUnit;
  d.type = scsi::DesignatorType::kNaa;
  d.value = {std::byte{0x60}, std::byte{0x01}, std::byte{0x40}, std::byte{0x50},
             std::byte{0x11}, std::byte{0x22}, std::byte{0x33}, std::byte{last}};
  return d;
}

// Fixed, readable DsmPathIds (0x1001.., 0x2001..) so seed requests can name
// paths; the real ids are hashes (dsm::MakeDsmPathId).
std::shared_ptr<dsm::Nexus> MakeNexus(dsm::DsmPathId id, std::size_t port) {
  auto n = std::make_shared<dsm::Nexus>();
  n->id = id;
  n->identity.initiator_name = "iqn.2024-01.org.openmpio:fuzz";
  n->identity.isid = 0x23d000000000ULL + id;
  n->identity.target_name = "iqn.2024-01.org.openmpio:array";
  n->identity.portal_group_tag = static_cast<std::uint16_t>(port);
  n->identity.portal = "192.0.2." + std::to_string(port) + ":3260";
  return n;
}

dsm::LuGroupState Group(std::uint16_t id, scsi::AsymmetricAccessState s, bool preferred) {
  dsm::LuGroupState g;
  g.tpg_id = id;
  g.state = scsi::AccessStateField::From(s);
  g.preferred = preferred;
  g.supported = scsi::SupportedStates::FromByte(0x8F);
  return g;
}

struct FuzzDisk {
  mgmt::DiskName name;
  dsm::Disk disk;
  std::string hardware_id;
  std::vector<mgmt::PathPerf> perf;
  std::uint64_t generation = 1;
};

// Disk "data": explicit ALUA, paths 0x1001/0x1002 in group 1 (A/O, preferred),
// 0x1003 in group 2 (Standby), 0x1004 in group 2 but failed.
// Disk "logs": no ALUA, paths 0x2001/0x2002.
FuzzDisk AluaDisk() {
  FuzzDisk f;
  dsm::Disk& d = f.disk;
  d.lu_designator = Naa(1);
  d.device = std::make_shared<dsm::TargetDevice>();
  d.device->target_name = "iqn.2024-01.org.openmpio:array";
  d.device->groups = {{1, {1, 2}}, {2, {3, 4}}};
  d.alua = dsm::AluaSupport::kImplicitAndExplicit;
  d.symmetric_access = false;
  d.groups = {Group(1, scsi::AsymmetricAccessState::kActiveOptimized, true),
              Group(2, scsi::AsymmetricAccessState::kStandby, false)};
  d.implicit_transition_time_s = 2;
  for (std::size_t i = 0; i < 4; ++i) {
    dsm::Path p;
    p.nexus = MakeNexus(0x1001 + i, i + 1);
    p.relative_target_port = static_cast<std::uint16_t>(i + 1);
    p.tpg_id = static_cast<std::uint16_t>(i < 2 ? 1 : 2);
    p.verification = i == 3 ? dsm::PathVerification::kFailed : dsm::PathVerification::kOnline;
    d.paths.push_back(std::move(p));
  }
  f.name.alias = "data";
  f.hardware_id = "OPENMPIOSIM ARRAY       ";
  return f;
}

FuzzDisk PlainDisk() {
  FuzzDisk f;
  dsm::Disk& d = f.disk;
  d.lu_designator = Naa(2);
  d.device = std::make_shared<dsm::TargetDevice>();
  d.device->target_name = "iqn.2024-01.org.openmpio:plain";
  for (std::size_t i = 0; i < 2; ++i) {
    dsm::Path p;
    p.nexus = MakeNexus(0x2001 + i, i + 11);
    p.relative_target_port = static_cast<std::uint16_t>(i + 1);
    p.verification = dsm::PathVerification::kOnline;
    p.weight = static_cast<std::uint32_t>(i + 1);
    d.paths.push_back(std::move(p));
  }
  d.settings.policy = dsm::LoadBalancePolicy::kRoundRobin;
  d.settings.explicit_policy = true;
  f.name.alias = "logs";
  f.hardware_id = "OPENMPIOPLAIN DISK      ";
  return f;
}

// Counts the calls that change something, and the status each delivered.
struct Record {
  int mutating = 0;
  Status mutating_status;
  bool bad_plan = false;  // ExecuteSetPolicy got a plan that is not for its snapshot
};

class FuzzSim : public mgmt::SimControl {
 public:
  explicit FuzzSim(Record& rec) : rec_(rec) {}
  void Execute(const mgmt::SimRequest& /*request*/, mgmt::StatusCallback done) override {
    ++rec_.mutating;
    rec_.mutating_status = Status();
    done(Status());
  }

 private:
  Record& rec_;
};

class FuzzBackend : public mgmt::Backend {
 public:
  explicit FuzzBackend(Record& rec) : rec_(rec), sim_(rec) {
    disks_.push_back(AluaDisk());
    disks_.push_back(PlainDisk());
    for (FuzzDisk& f : disks_) {
      f.name.designator = scsi::DesignatorText(f.disk.lu_designator);
      for (const dsm::Path& p : f.disk.paths) {
        f.perf.push_back(mgmt::PathPerf{p.id(), 10, 5, 40960, 20480, 1, {{128, 256, 3}}});
      }
    }
  }

  [[nodiscard]] dsm::DsmOptions options() const override { return dsm::DsmOptions{}; }

  void ReadEvents(std::function<void(std::vector<mgmt::Event>)> done) override {
    done({mgmt::Event{1, "", "engine"}, mgmt::Event{2, "d", "path 0x1 failed: fuzz"}});
  }

  void ListDisks(std::function<void(std::vector<mgmt::DiskName>)> done) override {
    std::vector<mgmt::DiskName> names;
    for (const FuzzDisk& f : disks_) names.push_back(f.name);
    done(std::move(names));
  }

  void ReadDisk(const std::string& designator, bool refresh_alua,
                std::function<void(Expected<mgmt::DiskSnapshot>)> done) override {
    const FuzzDisk* f = Find(designator);
    if (f == nullptr) {
      done(MakeUnexpected(Status(NtStatus::kNoSuchDevice, "gone")));
      return;
    }
    mgmt::DiskSnapshot s;
    s.name = f->name;
    s.disk = f->disk;
    s.hardware_id = f->hardware_id;
    s.selection = dsm::ComputePathStates(f->disk, dsm::EffectivePolicy(f->disk, options()), 0, 0);
    s.perf = f->perf;
    s.generation = f->generation;
    if (refresh_alua && dsm::QueryNeedsAluaRefresh(f->disk)) s.refresh = Status();
    done(std::move(s));
  }

  void ExecuteSetPolicy(const std::string& designator, std::uint64_t generation,
                        dsm::SetPolicyPlan plan, mgmt::StatusCallback done) override {
    ++rec_.mutating;
    FuzzDisk* f = Find(designator);
    Status st;
    if (f == nullptr || generation != f->generation) {
      rec_.bad_plan = true;
      st = Status(NtStatus::kNoSuchDevice);
    } else {
      if (plan.stpg) {
        // Step 14 as a perfect array does it: the groups become A/O.
        for (dsm::LuGroupState& g : f->disk.groups) {
          for (const std::uint16_t id : plan.stpg->tpg_ids) {
            if (g.tpg_id == id) {
              g.state = scsi::AccessStateField::From(scsi::AsymmetricAccessState::kActiveOptimized);
            }
          }
        }
      }
      st = dsm::CommitSetPolicy(f->disk, plan);
      // A plan of CheckSetLoadBalancePolicy on this very snapshot must commit.
      if (!st.ok()) rec_.bad_plan = true;
      if (st.ok() && plan.clear) defaults_.ApplyTo(f->disk, f->hardware_id);
      if (st.ok()) ++f->generation;
    }
    rec_.mutating_status = st;
    done(st);
  }

  void ReadDefaults(std::function<void(dsm::PolicyDefaults)> done) override { done(defaults_); }

  void UpdateDefaults(DefaultsEdit edit, mgmt::StatusCallback done) override {
    ++rec_.mutating;
    Status st = edit(defaults_, options());
    rec_.mutating_status = st;
    done(std::move(st));
  }

  void ClearCounters(const std::string& designator, mgmt::StatusCallback done) override {
    ++rec_.mutating;
    FuzzDisk* f = Find(designator);
    if (f == nullptr) rec_.bad_plan = true;
    rec_.mutating_status = Status();
    done(Status());
  }

  void SaveConfig(std::optional<std::string> /*path*/, mgmt::StatusCallback done) override {
    ++rec_.mutating;  // nothing is written: the fuzzer must not touch files
    rec_.mutating_status = Status();
    done(Status());
  }

  mgmt::SimControl* sim() override { return &sim_; }

 private:
  FuzzDisk* Find(const std::string& designator) {
    for (FuzzDisk& f : disks_) {
      if (f.name.designator == designator) return &f;
    }
    return nullptr;
  }

  Record& rec_;
  FuzzSim sim_;
  std::vector<FuzzDisk> disks_;
  dsm::PolicyDefaults defaults_;
};

// What the request asks for, read independently of JsonApi: a write (it may
// reach a mutating call), a read (it never does), or unknown/undecodable.
enum class Kind : std::uint8_t { kUnknown, kRead, kWrite };

Kind KindOf(std::string_view text) {
  using Json = nlohmann::json;
  const Json req = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded() || !req.is_object()) return Kind::kUnknown;
  const auto m = req.find("method");
  if (m == req.end() || !m->is_string()) return Kind::kUnknown;
  const std::string& name = m->get_ref<const std::string&>();
  static constexpr std::string_view kWrites[] = {"DsmSetLoadBalancePolicy",
                                                 "DsmSetLoadBalancePolicyALUA",
                                                 "MSDsmClearCounters", "SimControl", "SaveConfig"};
  static constexpr std::string_view kDataClasses[] = {"MSDSM_DEFAULT_LOAD_BALANCE_POLICY",
                                                      "MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY",
                                                      "MPIO_TIMERS_COUNTERS"};
  for (const std::string_view w : kWrites) {
    if (name == w) return Kind::kWrite;
  }
  for (const std::string_view c : kDataClasses) {
    if (name == c) return req.contains("Set") ? Kind::kWrite : Kind::kRead;
  }
  return Kind::kRead;  // every other name is a read or unknown: never mutates
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view request(reinterpret_cast<const char*>(data), size);  // NOLINT
  Record rec;
  FuzzBackend backend(rec);
  mgmt::JsonApi api(backend);
  std::vector<std::string> replies;
  api.Handle(request, [&replies](std::string reply) { replies.push_back(std::move(reply)); });

  // Every backend call above answered at once, so the reply is already here.
  if (replies.size() != 1) Violation("not exactly one reply", request, std::to_string(replies.size()));
  const std::string& reply = replies.front();
  // OPENMPIO_FUZZ_VERBOSE=1: print each reply (to check what a seed reaches).
  static const bool verbose = std::getenv("OPENMPIO_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%s\n", reply.c_str());
  if (reply.find('\n') != std::string::npos) Violation("reply is not one line", request, reply);

  using Json = nlohmann::json;
  const Json j = Json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) Violation("reply is not JSON", request, reply);
  if (!j.is_object()) Violation("reply is not an object", request, reply);
  const auto st = j.find("Status");
  if (st == j.end() || !st->is_number_unsigned()) Violation("no numeric Status", request, reply);
  const auto code64 = st->get<std::uint64_t>();
  if (code64 > 0xFFFFFFFFULL) Violation("Status is not an NTSTATUS", request, reply);
  const auto code = static_cast<std::uint32_t>(code64);
  const auto name = j.find("StatusName");
  if (name == j.end() || !name->is_string() ||
      name->get_ref<const std::string&>() != Status::FromCode(code).Name()) {
    Violation("StatusName missing or not the Status's name", request, reply);
  }
  const auto msg = j.find("Message");
  if (msg != j.end() && !msg->is_string()) Violation("Message is not a string", request, reply);

  if (rec.bad_plan) Violation("a mutating call got a plan/disk not from its snapshot", request, reply);
  if (rec.mutating > 1) Violation("more than one mutating call", request, reply);
  if (code != 0 && rec.mutating != 0 && rec.mutating_status.code() != code) {
    Violation("failed request reached a mutating call", request, reply);
  }
  const Kind kind = KindOf(request);
  if (kind != Kind::kWrite && rec.mutating != 0) {
    Violation("a read (or undecodable request) mutated", request, reply);
  }
  if (kind == Kind::kWrite && code == 0 && rec.mutating != 1) {
    Violation("a successful write did not reach the backend", request, reply);
  }
  return 0;
}
