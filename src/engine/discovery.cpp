// Discovery over one nexus (spec/scsi-alua.md "Discovering ALUA", DESIGN.md
// "Identity"): login, REPORT LUNS, then per LU standard INQUIRY, VPD 0x00 and
// only the pages it lists (0x83 required for identity; 0xB0 / 0xB2 optional —
// a failed optional page never fails a path), MODE SENSE(10) for the caching
// page (optional too), RTPG when TPGS says ALUA, the
// claim into a Disk, and READ CAPACITY(16) through an active path (it goes
// through the normal dispatch, so the policy picks the path). DiscoverLuns
// also serves a rescan after 3F/0E (StartFollowUps, RescanLuns below).
#include <algorithm>
#include <memory>
#include <utility>

#include "engine/engine_impl.h"
#include "scsi/block_commands.h"
#include "scsi/inquiry.h"
#include "scsi/mode_sense.h"
#include "scsi/read_capacity.h"
#include "scsi/report_luns.h"
#include "scsi/vpd.h"

namespace openmpio::engine {
namespace {

bool Good(const transport::Result& r) {
  return r.outcome == transport::Outcome::kCompleted && r.status == scsi::ScsiStatus::kGood;
}

// The LUNs of a whole REPORT LUNS answer (those with a single-level number)
// that `only` lists (all when it is empty).
std::vector<std::uint64_t> ReportedLuns(const scsi::ReportLunsData& parsed,
                                        const std::vector<std::uint64_t>& only) {
  std::vector<std::uint64_t> luns;
  for (const scsi::Lun& l : parsed.luns) {
    auto num = l.number();
    if (!num) continue;
    if (only.empty() || std::find(only.begin(), only.end(), *num) != only.end()) {
      luns.push_back(*num);
    }
  }
  return luns;
}

constexpr std::uint16_t kVpdAllocation = 4096;
// REPORT LUNS is asked with 4 KiB (510 LUNs; istgt refuses more than 8 KiB)
// and again with the length the answer's header asks for, up to every LUN
// of the flat space (SAM-5: 16384).
constexpr std::uint32_t kReportLunsMaxAllocation =
    scsi::kReportLunsHeaderLength + 16384 * scsi::kLunLength;

}  // namespace

void Engine::Impl::ReportLuns(NexusRuntime& n,
                              std::function<void(std::optional<std::vector<std::uint64_t>>)> done,
                              std::uint32_t allocation) {
  scsi::ReportLunsCdb rl;
  rl.allocation_length = allocation;
  NexusRuntime* np = &n;
  IssueCommand(n, 0, scsi::BuildReportLunsCdb(rl), allocation,
               [this, np, allocation, done = std::move(done)](const transport::Result& r,
                                                              std::span<const std::byte> data) {
                 auto parsed = Good(r) ? scsi::ParseReportLuns(data)
                                       : scsi::ParseResult<scsi::ReportLunsData>(
                                             scsi::Fail(scsi::ParseErrc::kEmpty, 0, "no answer"));
                 if (!parsed) {
                   done(std::nullopt);
                   return;
                 }
                 if (parsed->truncated) {
                   // Never taken as the whole list (SPC-4 6.33): ask for all of it.
                   const auto need = parsed->required_allocation_length;
                   if (need > allocation && need <= kReportLunsMaxAllocation) {
                     ReportLuns(*np, done, static_cast<std::uint32_t>(need));
                   } else {
                     done(std::nullopt);
                   }
                   return;
                 }
                 done(ReportedLuns(*parsed, np->only_luns));
               });
}

void Engine::Impl::StartDiscovery(NexusRuntime& n) {
  ++discovering;
  NexusRuntime* np = &n;
  ConnectNexus(n, [this, np](const Status& s) {
    np->last_state = np->transport->state();
    if (!s.ok()) {
      // Not a path yet: retried by the monitor, which rediscovers on login.
      NoteLoginFailure(*np, s);
      np->discovered = true;
      --discovering;
      np->failed = true;
      ScheduleProbe(*np);
      return;
    }
    --discovering;
    StartDiscoveryAfterLogin(*np);
  });
}

void Engine::Impl::StartDiscoveryAfterLogin(NexusRuntime& n) {
  ++discovering;
  NexusRuntime* np = &n;
  {
    ReportLuns(*np, [this, np](std::optional<std::vector<std::uint64_t>> luns) {
      // No answer: a nexus with no LUs (the monitor retries it).
      DiscoverLuns(*np, std::move(luns).value_or(std::vector<std::uint64_t>{}), [this, np]() {
        np->discovered = true;
        --discovering;
        // A 3F/0E that came during discovery.
        if (np->rescan.Finish()) RescanLuns(*np);
      });
    });
  }
}

namespace {

// Discovery of a list of LUs over one nexus, one LU after the other (not a
// hot path, and the order keeps MSDSM's path order deterministic), one method
// per step of spec/scsi-alua.md "Discovering ALUA":
//
//   Inquiry → SupportedPages → DeviceIdentification → BlockLimits →
//   Provisioning → ModeSense → Claim → (RTPG) → GoOnline → next LU
//
// A step that finds the LU is not ours ends it (NextLu). Optional steps (VPD
// 0xB0 / 0xB2, the caching mode page) skip a page the LU does not list, and
// ignore a refusal or an answer we cannot read: they never fail a path. The
// scan owns itself (shared_ptr) while a command is outstanding; every step
// runs on the control executor.
class LunScan : public std::enable_shared_from_this<LunScan> {
 public:
  LunScan(Engine::Impl& engine, NexusRuntime& n, std::vector<std::uint64_t> luns,
          std::function<void()> done)
      : e_(engine), n_(n), luns_(std::move(luns)), done_(std::move(done)) {}

  void Start() { StartLu(); }

 private:
  using Answer = void (LunScan::*)(const transport::Result&, std::span<const std::byte>);

  // What the steps collected about the LU being probed.
  struct Probe {
    scsi::StandardInquiry inquiry;
    scsi::SupportedVpdPages pages;
    std::optional<scsi::DeviceIdentification> id;
    std::optional<scsi::BlockLimits> limits;
    std::optional<scsi::LogicalBlockProvisioning> provisioning;
    std::optional<scsi::ModeSense10Data> mode;
  };

  [[nodiscard]] std::uint64_t lun() const { return luns_[next_]; }

  void Ask(const scsi::Cdb& cdb, std::size_t allocation, Answer step) {
    e_.IssueCommand(n_, lun(), cdb, allocation,
                    [self = shared_from_this(), step](const transport::Result& r,
                                                      std::span<const std::byte> data) {
                      ((*self).*step)(r, data);
                    });
  }
  void AskVpd(std::uint8_t page, std::uint16_t allocation, Answer step) {
    Ask(scsi::BuildInquiryCdb(true, page, allocation), allocation, step);
  }

  void StartLu() {
    if (next_ >= luns_.size()) {
      done_();
      return;
    }
    probe_ = Probe{};
    Ask(scsi::BuildInquiryCdb(false, 0, 96), 96, &LunScan::OnInquiry);
  }
  void NextLu() {
    ++next_;
    StartLu();
  }

  // Only qualifier 0, type 0 is claimed (DESIGN.md "Identity").
  void OnInquiry(const transport::Result& r, std::span<const std::byte> data) {
    auto inq = Good(r) ? scsi::ParseStandardInquiry(data)
                       : scsi::ParseResult<scsi::StandardInquiry>(
                             scsi::Fail(scsi::ParseErrc::kEmpty, 0, "no answer"));
    if (!inq || inq->peripheral_qualifier != scsi::kPeripheralQualifierConnected ||
        inq->peripheral_device_type != scsi::kDeviceTypeDirectAccess) {
      NextLu();
      return;
    }
    probe_.inquiry = *inq;
    AskVpd(scsi::vpd::kSupportedPages, 255, &LunScan::OnSupportedPages);
  }

  // VPD 0x00: no device identification page, no identity, no claim.
  void OnSupportedPages(const transport::Result& r, std::span<const std::byte> data) {
    if (Good(r)) {
      if (auto pages = scsi::ParseSupportedVpdPages(data)) probe_.pages = *pages;
    }
    if (!probe_.pages.Supports(scsi::vpd::kDeviceIdentification)) {
      NextLu();
      return;
    }
    AskVpd(scsi::vpd::kDeviceIdentification, kVpdAllocation, &LunScan::OnDeviceIdentification);
  }

  // VPD 0x83: the LU's designator is its identity; without one, no claim.
  void OnDeviceIdentification(const transport::Result& r, std::span<const std::byte> data) {
    if (Good(r)) {
      if (auto id = scsi::ParseDeviceIdentification(data)) probe_.id = *id;
    }
    if (!probe_.id || probe_.id->LogicalUnitDesignator() == nullptr) {
      NextLu();
      return;
    }
    ReadBlockLimits();
  }

  // VPD 0xB0 (optional): transfer, unmap and write-same limits.
  void ReadBlockLimits() {
    if (!probe_.pages.Supports(scsi::vpd::kBlockLimits)) {
      ReadProvisioning();
      return;
    }
    AskVpd(scsi::vpd::kBlockLimits, 64, &LunScan::OnBlockLimits);
  }
  void OnBlockLimits(const transport::Result& r, std::span<const std::byte> data) {
    if (Good(r)) {
      if (auto bl = scsi::ParseBlockLimits(data)) probe_.limits = *bl;
    }
    ReadProvisioning();
  }

  // VPD 0xB2 (optional; istgt answers CHECK CONDITION with empty sense).
  void ReadProvisioning() {
    if (!probe_.pages.Supports(scsi::vpd::kLogicalBlockProvisioning)) {
      ReadCachingPage();
      return;
    }
    AskVpd(scsi::vpd::kLogicalBlockProvisioning, 64, &LunScan::OnProvisioning);
  }
  void OnProvisioning(const transport::Result& r, std::span<const std::byte> data) {
    if (Good(r)) {
      if (auto p = scsi::ParseLogicalBlockProvisioning(data)) probe_.provisioning = *p;
    }
    ReadCachingPage();
  }

  // MODE SENSE(10), caching page (SBC-3 6.4.5), current values, no block
  // descriptors: WCE, and DPOFUA from the header (optional).
  void ReadCachingPage() {
    scsi::ModeSense10Cdb ms;
    Ask(scsi::BuildModeSense10Cdb(ms), ms.allocation_length, &LunScan::OnCachingPage);
  }
  void OnCachingPage(const transport::Result& r, std::span<const std::byte> data) {
    if (Good(r)) {
      if (auto m = scsi::ParseModeSense10(data)) probe_.mode = *m;
    }
    Claim();
  }

  // The path into its Disk (a new one, or the one it carried before a
  // rescan), the LU's limits and capabilities into the disk's runtime, then
  // the ALUA states when it has ALUA, then online.
  void Claim();
  // The path carries I/O (unless its nexus failed meanwhile); the disk is
  // published and its capacity read; next LU.
  void GoOnline(DiskRuntime& d);

  Engine::Impl& e_;
  NexusRuntime& n_;
  std::vector<std::uint64_t> luns_;
  std::function<void()> done_;
  std::size_t next_ = 0;
  Probe probe_;
};

// Lowers `field` to v when v is smaller or the field unset (0). A CAS loop,
// because I/O may read the value meanwhile.
void LowerLimit(std::atomic<std::uint32_t>& field, std::uint32_t v) {
  std::uint32_t cur = field.load(std::memory_order_relaxed);
  while ((cur == 0 || v < cur) && !field.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

void LunScan::Claim() {
  const scsi::DeviceIdentification& id = *probe_.id;
  dsm::PathCandidate c;
  c.peripheral_qualifier = probe_.inquiry.peripheral_qualifier;
  c.peripheral_device_type = probe_.inquiry.peripheral_device_type;
  c.lu_designator = *id.LogicalUnitDesignator();
  c.target_name = n_.transport->address().target_name;
  for (const scsi::Designator& d : id.designators) {
    if (d.association == scsi::Association::kTargetDevice) c.target_device_designators.push_back(d);
  }
  if (auto rtp = id.relative_target_port(); rtp && *rtp) c.relative_target_port = **rtp;
  if (auto tpg = id.target_port_group(); tpg && *tpg) c.tpg_id = **tpg;
  c.alua = static_cast<dsm::AluaSupport>(static_cast<std::uint32_t>(probe_.inquiry.tpgs));
  if (n_.alua == NexusOptions::Alua::kOff) {
    c.alua = dsm::AluaSupport::kNotSupported;
  } else if (n_.alua == NexusOptions::Alua::kForce && c.tpg_id &&
             c.alua == dsm::AluaSupport::kNotSupported) {
    c.alua = dsm::AluaSupport::kImplicitAndExplicit;
  }
  c.nexus = n_.nexus;
  dsm::Disk* disk = e_.topology.FindDisk(c.lu_designator);
  if (disk == nullptr || !disk->IndexOf(n_.nexus->id)) {
    auto claimed = e_.topology.Claim(c);
    if (!claimed) {
      NextLu();  // not ours (another device type, an unprovable merge, ...)
      return;
    }
    disk = *claimed;
  }
  // else: a LU this nexus carried before, back after a rescan (3F/0E).
  DiskRuntime& d = e_.RuntimeFor(disk, probe_.inquiry.vendor, probe_.inquiry.product);
  const auto idx = disk->IndexOf(n_.nexus->id);
  if (!idx) {
    NextLu();
    return;
  }
  if (d.removed.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lock(d.queue_mutex);
    d.removed.store(false, std::memory_order_relaxed);  // the LU is back
    d.capacity_stale = true;                            // re-created, maybe at another size
  }
  d.path_lun[*idx].store(lun(), std::memory_order_relaxed);
  d.path_nexus[*idx].store(&n_, std::memory_order_release);
  n_.lus.push_back(NexusRuntime::Lu{&d, lun()});
  if (const auto& bl = probe_.limits; bl && bl->maximum_transfer_length != 0) {
    // Every path must accept what is sent: keep the smallest limit.
    LowerLimit(d.max_transfer_blocks, bl->maximum_transfer_length);
    if (auto u = bl->maximum_unmap_lba_count; u && *u != 0) LowerLimit(d.max_unmap_blocks, *u);
    if (auto ws = bl->maximum_write_same_length; ws && *ws != 0) {
      LowerLimit(d.max_write_same_blocks,
                 static_cast<std::uint32_t>(std::min<std::uint64_t>(*ws, 0xFFFFFFFFU)));
    }
  }
  // Capabilities: one LU answers the same through every port; the last
  // path's answer stands (an unanswered optional page changes nothing).
  if (probe_.limits) d.optimal_transfer_blocks = probe_.limits->optimal_transfer_length;
  if (probe_.provisioning) {
    d.lbpu = probe_.provisioning->lbpu;
    d.lbpws.store(probe_.provisioning->lbpws, std::memory_order_relaxed);
  }
  if (probe_.mode) {
    d.caching_known = true;
    d.dpofua.store(probe_.mode->header.dpofua, std::memory_order_relaxed);
    d.wce = probe_.mode->caching && probe_.mode->caching->wce;
  }
  if (dsm::HasAlua(disk->alua)) {
    e_.RefreshAlua(d, [self = shared_from_this(), &d]() { self->GoOnline(d); });
  } else {
    GoOnline(d);
  }
}

void LunScan::GoOnline(DiskRuntime& d) {
  if (!n_.failed)
    d.disk->SetVerification(n_.nexus->id, dsm::PathVerification::kOnline).IgnoreError();
  e_.Publish(d);
  e_.ReadCapacity(d);
  NextLu();
}

}  // namespace

void Engine::Impl::DiscoverLuns(NexusRuntime& n, std::vector<std::uint64_t> luns,
                                std::function<void()> done) {
  std::make_shared<LunScan>(*this, n, std::move(luns), std::move(done))->Start();
}

void Engine::Impl::ReadCapacity(DiskRuntime& d, bool again) {
  if (d.capacity.in_flight()) {
    if (again) d.capacity.AskAgain();
    return;
  }
  if (!again && !d.capacity_stale && d.ready.load(std::memory_order_acquire)) return;
  const dsm::SelectionSnapshot* s = d.snapshot.current();
  if (s == nullptr || s->usable().empty()) return;  // retried at the next publish
  if (!d.capacity.TryStart()) return;
  auto parent = std::make_unique<IoParent>();
  parent->scratch.resize(scsi::kReadCapacity16DataLength);
  IoParent* pp = parent.get();
  DiskRuntime* dp = &d;
  std::weak_ptr<bool> token = alive;
  parent->done = [this, dp, pp, token](const Status& st) {
    // Runs where the chunk completed; geometry is control-owned.
    std::vector<std::byte> bytes = pp->scratch;
    control.Post([this, dp, st, bytes = std::move(bytes), token]() {
      if (token.expired()) return;
      auto rc = st.ok() ? scsi::ParseReadCapacity16(bytes)
                        : scsi::ParseResult<scsi::ReadCapacity16Data>(
                              scsi::Fail(scsi::ParseErrc::kEmpty, 0, "failed"));
      const bool asked_again = dp->capacity.Finish();
      if (!rc) {
        const bool was_ready = dp->ready.load(std::memory_order_acquire);
        control.PostAfter(timers.retry_interval(), [this, dp, token, was_ready]() {
          if (!token.expired()) ReadCapacity(*dp, was_ready);
        });
        return;
      }
      dp->capacity_stale = false;
      if (dp->ready.load(std::memory_order_acquire)) {
        // 2A/09: the capacity changed. The block size of a disk in use is
        // not changed under its users; any other answer is taken at once.
        if (rc->block_length == dp->block_size) {
          dp->blocks.store(rc->block_count(), std::memory_order_relaxed);
        }
        if (asked_again) ReadCapacity(*dp, true);
        return;
      }
      dp->blocks.store(rc->block_count(), std::memory_order_relaxed);
      dp->block_size = rc->block_length;
      dp->lbpme = rc->lbpme;
      dp->lbprz = rc->lbprz;
      dp->physical_block_exponent = rc->logical_blocks_per_physical_block_exponent;
      std::uint32_t zero = 0;
      dp->max_transfer_blocks.compare_exchange_strong(
          zero, std::max<std::uint32_t>(1, config.default_max_transfer_bytes / rc->block_length),
          std::memory_order_relaxed);
      zero = 0;
      dp->max_unmap_blocks.compare_exchange_strong(zero, 1U << 22, std::memory_order_relaxed);
      zero = 0;
      dp->max_write_same_blocks.compare_exchange_strong(zero, 0xFFFF, std::memory_order_relaxed);
      dp->ready.store(true, std::memory_order_release);
    });
  };
  auto chunk = std::make_unique<IoChunk>();
  chunk->parent = pp;
  chunk->disk = &d;
  chunk->op = IoOp::kReadCapacity;
  chunk->data_in = std::span<std::byte>(pp->scratch);
  chunk->hint.kind = dsm::IoKind::kOther;
  IoChunk* c = chunk.get();
  parent->chunks.push_back(std::move(chunk));
  parent->remaining.store(1, std::memory_order_relaxed);
  parent.release();  // owned by itself until FinishChunk deletes it
  Dispatch(c);
}

}  // namespace openmpio::engine

namespace openmpio::engine {

// ---- changes after discovery (the error table's follow-ups) -----------------------

void Engine::Impl::StartFollowUps(NexusRuntime& n, DiskRuntime& d, std::uint8_t follow_ups) {
  // kRefreshAlua is the action of every row that asks for it (alua_refresh.cpp);
  // deferred errors are counted by their action. Not done: kReReadIdentity
  // (3F/03: the RTPG of its action covers the ALUA part) and kCountRecovered.
  constexpr std::uint8_t kHere = dsm::follow_up::kRescanLuns | dsm::follow_up::kReReadCapacity;
  if ((follow_ups & kHere) == 0) return;
  NexusRuntime* np = &n;
  DiskRuntime* dp = &d;
  std::weak_ptr<bool> token = alive;
  control.Post([this, np, dp, follow_ups, token]() {
    if (token.expired()) return;
    if ((follow_ups & dsm::follow_up::kRescanLuns) != 0) {
      // The target's inventory changed: every session to it rescans, not
      // only the one whose I/O heard it first (a port without I/O would
      // hear its own 3F/0E only at its next command).
      const std::string& target = np->transport->address().target_name;
      for (auto& m : nexuses) {
        if (m.get() == np || m->transport->address().target_name == target) RescanLuns(*m);
      }
    }
    if ((follow_ups & dsm::follow_up::kReReadCapacity) != 0) ReadCapacity(*dp, true);
  });
}

void Engine::Impl::RescanLuns(NexusRuntime& n, std::uint32_t attempt) {
  if (!n.discovered || !n.rescan.TryStart()) {
    n.rescan.AskAgain();  // answered by the rescan after the one in flight
    return;
  }
  NexusRuntime* np = &n;
  std::weak_ptr<bool> token = alive;
  ReportLuns(n, [this, np, attempt, token](std::optional<std::vector<std::uint64_t>> luns) {
    auto finished = [this, np]() {
      if (np->rescan.Finish()) RescanLuns(*np);
    };
    if (!luns) {
      // The unit attention that asked for it is consumed: try again a few
      // times, RetryInterval apart, before waiting for the next one.
      if (np->rescan.Finish()) {
        RescanLuns(*np);
      } else if (attempt < timers.retry_count()) {
        control.PostAfter(timers.retry_interval(), [this, np, attempt, token]() {
          if (!token.expired()) RescanLuns(*np, attempt + 1);
        });
      }
      return;
    }
    for (std::size_t i = np->lus.size(); i-- > 0;) {
      if (std::find(luns->begin(), luns->end(), np->lus[i].lun) == luns->end()) DropLu(*np, i);
    }
    std::vector<std::uint64_t> fresh;
    for (std::uint64_t lun : *luns) {
      const bool known = std::any_of(np->lus.begin(), np->lus.end(),
                                     [lun](const NexusRuntime::Lu& l) { return l.lun == lun; });
      if (!known) fresh.push_back(lun);
    }
    ++discovering;
    DiscoverLuns(*np, std::move(fresh), [this, finished]() {
      --discovering;
      finished();
    });
  });
}

void Engine::Impl::DropLu(NexusRuntime& n, std::size_t i) {
  // The LU left this port: its path leaves the disk's selection for good
  // (the monitor reinstates only the LUs a nexus still carries). If it comes
  // back, DiscoverLun finds the path again. A disk left without paths keeps
  // its requests for the no-path time (PDORemovePeriod), then fails them.
  DiskRuntime& d = *n.lus[i].disk;
  d.disk->SetVerification(n.nexus->id, dsm::PathVerification::kFailed).IgnoreError();
  n.lus.erase(n.lus.begin() + static_cast<std::ptrdiff_t>(i));
  Publish(d);
  const bool carried = std::any_of(nexuses.begin(), nexuses.end(), [&d](const auto& m) {
    return std::any_of(m->lus.begin(), m->lus.end(),
                       [&d](const NexusRuntime::Lu& l) { return l.disk == &d; });
  });
  if (carried) return;
  // No port has the LU any more: what waits for a path fails now, with the
  // reason, and so does every request until the LU comes back.
  std::deque<IoChunk*> waiting;
  {
    std::lock_guard<std::mutex> lock(d.queue_mutex);
    d.removed.store(true, std::memory_order_relaxed);
    waiting.swap(d.no_path_queue);
  }
  for (IoChunk* c : waiting) FinishChunk(c, Removed(d));
}

}  // namespace openmpio::engine
