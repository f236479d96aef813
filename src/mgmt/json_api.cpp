// The JSON management API (json_api.h): the method table, dispatch, and the
// calls into dsm/ checks and the backend. Request decoding is in
// json_decode.cpp, reply encoding in json_encode.cpp (json_internal.h).
#include "mgmt/json_api.h"

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "mgmt/json_internal.h"

namespace openmpio::mgmt {
namespace detail {
namespace {

// ---- one reply per request -------------------------------------------------------

// Sends the reply at most once, whichever thread completes the request.
class Replier {
 public:
  explicit Replier(ReplyCallback cb) : state_(std::make_shared<State>()) {
    state_->cb = std::move(cb);
  }
  void Send(const Json& reply) const { SendText(Dump(reply)); }
  void Fail(const Status& s) const { Send(StatusJson(s)); }
  void SendText(std::string text) const {
    if (state_->sent.exchange(true)) return;
    state_->cb(std::move(text));
  }

 private:
  struct State {
    ReplyCallback cb;
    std::atomic<bool> sent{false};
  };
  std::shared_ptr<State> state_;
};

// Runs one step of a request; an exception (nlohmann's, bad_alloc) becomes the
// reply's Status instead of leaving this layer.
template <typename Fn>
void Guarded(const Replier& r, Fn&& fn) {
  try {
    fn();
  } catch (const std::bad_alloc&) {
    r.Fail(Status(NtStatus::kInsufficientResources, "out of memory"));
  } catch (const std::exception& e) {
    r.Fail(InvalidParameter(std::string("request failed: ") + e.what()));
  }
}

// ---- method table ---------------------------------------------------------------------

enum class Method : std::uint8_t {
  kSetPolicyV1,
  kSetPolicyAlua,
  kQueryLbPolicyV2,
  kQuerySupported,
  kQueryUniqueId,
  kMsdsmDefault,
  kTargetsDefault,
  kTimers,
  kDevicePerf,
  kClearCounters,
  kListDisks,
  kShow,
  kWhy,
  kSimControl,
  kSaveConfig,
  kEvents,
};

struct MethodEntry {
  const char* name;
  const char* wmi_class;  // the class a request's optional "class" must name
  Method method;
  bool writable_class;  // a data class that takes "Set"
};

constexpr MethodEntry kMethods[] = {
    {"DsmSetLoadBalancePolicy", "DSM_LB_Operations", Method::kSetPolicyV1, false},
    {"DsmSetLoadBalancePolicyALUA", "DSM_LB_Operations", Method::kSetPolicyAlua, false},
    {"DSM_QueryLBPolicy_V2", "DSM_QueryLBPolicy_V2", Method::kQueryLbPolicyV2, false},
    {"DSM_QuerySupportedLBPolicies_V2", "DSM_QuerySupportedLBPolicies_V2", Method::kQuerySupported,
     false},
    {"DSM_QueryUniqueId", "DSM_QueryUniqueId", Method::kQueryUniqueId, false},
    {"MSDSM_DEFAULT_LOAD_BALANCE_POLICY", "MSDSM_DEFAULT_LOAD_BALANCE_POLICY",
     Method::kMsdsmDefault, true},
    {"MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY", "MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY",
     Method::kTargetsDefault, true},
    {"MPIO_TIMERS_COUNTERS", "MPIO_TIMERS_COUNTERS", Method::kTimers, true},
    {"MSDSM_DEVICE_PERF", "MSDSM_DEVICE_PERF", Method::kDevicePerf, false},
    {"MSDsmClearCounters", "MSDSM_WMI_METHODS", Method::kClearCounters, false},
    {"ListDisks", "openmpio", Method::kListDisks, false},
    {"Show", "openmpio", Method::kShow, false},
    {"Why", "openmpio", Method::kWhy, false},
    {"SimControl", "openmpio", Method::kSimControl, false},
    {"SaveConfig", "openmpio", Method::kSaveConfig, false},
    {"Events", "openmpio", Method::kEvents, false},
};

bool KnownClass(std::string_view c) {
  for (const MethodEntry& m : kMethods) {
    if (c == m.wmi_class) return true;
  }
  return false;
}

// ---- the per-disk plumbing ---------------------------------------------------------------

const DiskName* Resolve(const std::vector<DiskName>& names, const std::string& instance) {
  for (const DiskName& n : names) {
    if (n.designator == instance) return &n;
  }
  for (const DiskName& n : names) {
    if (!n.alias.empty() && n.alias == instance) return &n;
  }
  return nullptr;
}

Status NoSuchDisk(const std::string& instance) {
  return Status(NtStatus::kNoSuchDevice, "InstanceName: no disk named \"" + instance + "\"");
}

// Resolves the InstanceName, then hands the designator to `then`.
void WithName(Backend& b, const std::string& instance, const Replier& r,
              std::function<void(const DiskName&)> then) {
  b.ListDisks([instance, r, then = std::move(then)](std::vector<DiskName> names) {
    Guarded(r, [&] {
      const DiskName* n = Resolve(names, instance);
      if (n == nullptr) {
        r.Fail(NoSuchDisk(instance));
        return;
      }
      then(*n);
    });
  });
}

void WithDisk(Backend& b, const std::string& instance, bool refresh, const Replier& r,
              std::function<void(DiskSnapshot&)> then) {
  Backend* bp = &b;
  WithName(b, instance, r, [bp, refresh, r, then = std::move(then)](const DiskName& n) {
    bp->ReadDisk(n.designator, refresh, [r, then](Expected<DiskSnapshot> snap) {
      Guarded(r, [&] {
        if (!snap) {
          r.Fail(snap.error());
          return;
        }
        then(*snap);
      });
    });
  });
}

// Show over every disk: reads them one after the other.
struct ShowAll {
  Backend* backend;
  dsm::DsmOptions options;
  Replier reply;
  std::vector<DiskName> names;
  std::size_t next = 0;
  Json disks = Json::array();

  static void Step(const std::shared_ptr<ShowAll>& self) {
    if (self->next >= self->names.size()) {
      Json body = Json::object();
      body["Disks"] = std::move(self->disks);
      self->reply.Send(WithStatus(std::move(body)));
      return;
    }
    const std::string designator = self->names[self->next++].designator;
    self->backend->ReadDisk(designator, false, [self](Expected<DiskSnapshot> snap) {
      Guarded(self->reply, [&] {
        // A disk that went away between the list and the read is skipped.
        if (snap) self->disks.push_back(DiskTreeJson(*snap, self->options));
        Step(self);
      });
    });
  }
};

// ---- the methods ---------------------------------------------------------------------------

void SetPolicy(Backend& b, const Json& req, bool v2, const Replier& r) {
  auto instance = RequireInstanceName(req);
  if (!instance) return r.Fail(instance.error());
  auto input = DecodeSetPolicy(req, v2);
  if (!input) return r.Fail(input.error());
  Backend* bp = &b;
  WithDisk(b, *instance, false, r, [bp, in = std::move(*input), r](DiskSnapshot& s) {
    auto plan = dsm::CheckSetLoadBalancePolicy(s.disk, in, bp->options());
    if (!plan) return r.Fail(plan.error());
    bp->ExecuteSetPolicy(s.name.designator, s.generation, std::move(*plan),
                         [r](Status st) { r.Fail(st); });
  });
}

// A data class without "Set": its fields from the defaults, `body` builds
// them (and may fail).
void ReadDefaultsReply(Backend& b, const Replier& r,
                       std::function<Expected<Json>(const dsm::PolicyDefaults&)> body) {
  b.ReadDefaults([r, body = std::move(body)](dsm::PolicyDefaults d) {
    Guarded(r, [&] {
      auto j = body(d);
      if (!j) return r.Fail(j.error());
      r.Send(WithStatus(std::move(*j)));
    });
  });
}

void GlobalDefault(Backend& b, const Json& req, const Replier& r) {
  auto set = OptionalSet(req);
  if (!set) return r.Fail(set.error());
  if (!set->has_value()) {
    return ReadDefaultsReply(b, r, [](const dsm::PolicyDefaults& d) -> Expected<Json> {
      auto def = d.MsdsmDefault();
      if (!def) return MakeUnexpected(def.error());
      return PolicyDefaultJson(*def);
    });
  }
  auto in = DecodeGlobalDefaultSet(***set);
  if (!in) return r.Fail(in.error());
  b.UpdateDefaults(
      [p = in->policy, pref = in->preferred](dsm::PolicyDefaults& d, const dsm::DsmOptions& o) {
        return d.SetMsdsmDefault(p, pref, o);
      },
      [r](Status st) { r.Fail(st); });
}

void TargetsDefault(Backend& b, const Json& req, const Replier& r) {
  auto set = OptionalSet(req);
  if (!set) return r.Fail(set.error());
  if (!set->has_value()) {
    return ReadDefaultsReply(
        b, r, [](const dsm::PolicyDefaults& d) -> Expected<Json> { return TargetDefaultsJson(d); });
  }
  auto entries = DecodeTargetDefaultsSet(***set);
  if (!entries) return r.Fail(entries.error());
  // As MSDSM (spec §4): a bad entry (HardwareId not 24 characters, policy out
  // of range) is skipped, the others applied, the last error returned.
  b.UpdateDefaults(
      [entries = std::move(*entries)](dsm::PolicyDefaults& d, const dsm::DsmOptions& o) {
        Status last;
        for (const TargetEntry& e : entries) {
          Status st = d.SetTargetDefault(e.hardware_id, e.policy, e.preferred, o);
          if (!st.ok()) last = std::move(st);
        }
        return last;
      },
      [r](Status st) { r.Fail(st); });
}

void Timers(Backend& b, const Json& req, const Replier& r) {
  auto set = OptionalSet(req);
  if (!set) return r.Fail(set.error());
  if (!set->has_value()) {
    return ReadDefaultsReply(b, r, [](const dsm::PolicyDefaults& d) -> Expected<Json> {
      return TimersJson(d.timers());
    });
  }
  auto values = DecodeTimersSet(***set);
  if (!values) return r.Fail(values.error());
  b.UpdateDefaults(
      [v = *values](dsm::PolicyDefaults& d, const dsm::DsmOptions&) {
        dsm::MpioTimers t = d.timers();
        if (v[0]) t.path_verify_enabled = *v[0];
        if (v[1]) t.path_verification_period = *v[1];
        if (v[2]) t.pdo_remove_period = *v[2];
        if (v[3]) t.retry_count = *v[3];
        if (v[4]) t.retry_interval = *v[4];
        return d.SetTimers(t);
      },
      [r](Status st) { r.Fail(st); });
}

void SimControlMethod(Backend& b, const Json& req, const Replier& r) {
  SimControl* sim = b.sim();
  if (sim == nullptr) {
    return r.Fail(Status(NtStatus::kNotSupported, "SimControl: no embedded array"));
  }
  auto sr = DecodeSimRequest(req);
  if (!sr) return r.Fail(sr.error());
  sim->Execute(*sr, [r](Status st) { r.Fail(st); });
}

// A method on one disk named by the request's InstanceName: `body` gives the
// reply's fields from the disk's snapshot (ALUA refreshed first if `refresh`).
void DiskReply(Backend& b, const Json& req, bool refresh, const Replier& r,
               std::function<Json(const DiskSnapshot&)> body) {
  auto instance = RequireInstanceName(req);
  if (!instance) return r.Fail(instance.error());
  WithDisk(b, *instance, refresh, r,
           [r, body = std::move(body)](DiskSnapshot& s) { r.Send(WithStatus(body(s))); });
}

void Dispatch(Backend& b, std::string_view text, const Replier& r) {
  if (text.size() > kMaxRequestBytes) {
    return r.Fail(
        InvalidParameter("request longer than " + std::to_string(kMaxRequestBytes) + " bytes"));
  }
  Json req = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded()) return r.Fail(InvalidParameter("request: not JSON"));
  if (!req.is_object()) {
    return r.Fail(
        InvalidParameter("request: expected a JSON object, got " + std::string(req.type_name())));
  }
  auto method = ReadString(req, "method", "", true);
  if (!method) return r.Fail(method.error());
  auto cls = ReadString(req, "class", "", false);
  if (!cls) return r.Fail(cls.error());
  if (cls->has_value() && !KnownClass(**cls)) {
    return r.Fail(Status(NtStatus::kWmiGuidNotFound, "class: unknown class \"" + **cls + "\""));
  }
  const MethodEntry* entry = nullptr;
  for (const MethodEntry& m : kMethods) {
    if (**method == m.name) entry = &m;
  }
  if (entry == nullptr || (cls->has_value() && **cls != entry->wmi_class)) {
    return r.Fail(Status(
        NtStatus::kWmiItemIdNotFound,
        "method: unknown method \"" + **method + "\"" + (cls->has_value() ? " of " + **cls : "")));
  }
  if (!entry->writable_class && req.contains("Set")) {
    return r.Fail(Status(NtStatus::kInvalidDeviceRequest,
                         std::string("Set: ") + entry->name + " is read-only"));
  }
  const dsm::DsmOptions options = b.options();
  Backend* bp = &b;
  switch (entry->method) {
    case Method::kSetPolicyV1:
      return SetPolicy(b, req, false, r);
    case Method::kSetPolicyAlua:
      return SetPolicy(b, req, true, r);
    case Method::kQueryLbPolicyV2: {
      auto instance = RequireInstanceName(req);
      if (!instance) return r.Fail(instance.error());
      return WithDisk(b, *instance, true, r, [r, options](DiskSnapshot& s) {
        Json body = Json::object();
        body["InstanceName"] = s.name.designator;
        body["LoadBalancePolicy"] = QueriedPolicyJson(dsm::QueryLoadBalancePolicy(s.disk, options));
        // The RTPG refresh's status, with the data filled either way (spec §4).
        r.Send(WithStatus(std::move(body), s.refresh));
      });
    }
    case Method::kQuerySupported:
      return DiskReply(b, req, false, r, [options](const DiskSnapshot& s) {
        return SupportedPoliciesJson(s.name.designator, dsm::SupportedPolicies(s.disk, options));
      });
    case Method::kQueryUniqueId:
      return DiskReply(b, req, false, r, UniqueIdJson);
    case Method::kMsdsmDefault:
      return GlobalDefault(b, req, r);
    case Method::kTargetsDefault:
      return TargetsDefault(b, req, r);
    case Method::kTimers:
      return Timers(b, req, r);
    case Method::kDevicePerf:
      return DiskReply(b, req, false, r, DevicePerfJson);
    case Method::kClearCounters: {
      auto instance = RequireInstanceName(req);
      if (!instance) return r.Fail(instance.error());
      return WithName(b, *instance, r, [bp, r](const DiskName& n) {
        bp->ClearCounters(n.designator, [r](Status st) { r.Fail(st); });
      });
    }
    case Method::kListDisks:
      return b.ListDisks([r](std::vector<DiskName> names) {
        Guarded(r, [&] { r.Send(WithStatus(DiskListJson(names))); });
      });
    case Method::kShow: {
      auto instance = ReadString(req, "InstanceName", "", false);
      if (!instance) return r.Fail(instance.error());
      if (instance->has_value()) {
        return WithDisk(b, **instance, false, r, [r, options](DiskSnapshot& s) {
          Json body = Json::object();
          body["Disks"] = Json::array({DiskTreeJson(s, options)});
          r.Send(WithStatus(std::move(body)));
        });
      }
      return b.ListDisks([bp, r, options](std::vector<DiskName> names) {
        Guarded(r, [&] {
          auto all = std::make_shared<ShowAll>(ShowAll{bp, options, r, std::move(names)});
          ShowAll::Step(all);
        });
      });
    }
    case Method::kWhy:
      return DiskReply(b, req, false, r,
                       [options](const DiskSnapshot& s) { return WhyJson(s, options); });
    case Method::kSimControl:
      return SimControlMethod(b, req, r);
    case Method::kEvents:
      return b.ReadEvents([r](std::vector<Event> events) {
        Guarded(r, [&] {
          Json list = Json::array();
          for (const Event& e : events) {
            list.push_back(Json{{"TimeMs", e.time_ms}, {"Disk", e.disk}, {"Text", e.text}});
          }
          Json body = Json::object();
          body["Events"] = std::move(list);
          r.Send(WithStatus(std::move(body)));
        });
      });
    case Method::kSaveConfig: {
      auto path = ReadString(req, "Path", "", false);
      if (!path) return r.Fail(path.error());
      return b.SaveConfig(*path, [r](Status st) { r.Fail(st); });
    }
  }
  r.Fail(Status(NtStatus::kWmiItemIdNotFound, "method: not handled"));
}

}  // namespace
}  // namespace detail

void JsonApi::Handle(std::string_view request, ReplyCallback done) {
  const detail::Replier r(std::move(done));
  detail::Guarded(r, [&] { detail::Dispatch(backend_, request, r); });
}

}  // namespace openmpio::mgmt
