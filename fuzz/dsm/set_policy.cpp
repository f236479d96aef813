// Fuzzes the binary entry points of the management classes: the decoding and
// checks of DsmSetLoadBalancePolicy(ALUA)_IN (spec/msdsm.md §4) and the
// MSDSM_TARGETS / MSDSM_DEFAULT / MPIO_TIMERS_COUNTERS sets. Byte 0 picks the
// class and the disk shape; the rest is the buffer as WMI would hand it over.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "dsm/lb_defaults.h"
#include "dsm/lb_management.h"

namespace {

using namespace openmpio::dsm;  // NOLINT(google-build-using-namespace)

Disk MakeDisk(std::uint8_t shape) {
  Disk d;
  d.device = std::make_shared<TargetDevice>();
  d.alua = static_cast<AluaSupport>(shape & 0x3U);
  const std::size_t n = 1 + ((shape >> 2) & 0x3U);
  for (std::size_t i = 0; i < n; ++i) {
    Path p;
    p.nexus = std::make_shared<Nexus>();
    p.nexus->id = 0x101 + i;
    p.relative_target_port = static_cast<std::uint16_t>(i + 1);
    p.verification = i == 2 ? PathVerification::kFailed : PathVerification::kOnline;
    if (HasAlua(d.alua)) {
      p.tpg_id = static_cast<std::uint16_t>(i + 1);
      LuGroupState g;
      g.tpg_id = static_cast<std::uint16_t>(i + 1);
      g.state = openmpio::scsi::AccessStateField::FromNibble(static_cast<std::uint8_t>(i));
      g.supported = openmpio::scsi::SupportedStates::FromByte(0x0F);
      d.groups.push_back(g);
    }
    d.paths.push_back(std::move(p));
  }
  d.symmetric_access = !HasAlua(d.alua);
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t selector = data[0];
  const auto* bytes = reinterpret_cast<const std::byte*>(data + 1);  // NOLINT
  const std::span<const std::byte> in(bytes, size - 1);
  const DsmOptions options{(selector & 0x40U) != 0};
  switch ((selector >> 4) & 0x3U) {
    case 0:
    case 1: {
      Disk d = MakeDisk(selector);
      const auto method = (selector & 0x10U) != 0 ? SetPolicyMethod::kV1 : SetPolicyMethod::kAlua;
      const auto plan = CheckSetLoadBalancePolicyBuffer(d, method, in, 4, options);
      if (plan.has_value()) {
        if (!CommitSetPolicy(d, plan.value()).ok()) __builtin_trap();
        std::byte out[16 + 64 * 4];
        std::size_t needed = 0;
        EncodeQueryLBPolicyV2(QueryLoadBalancePolicy(d, options), out, &needed).IgnoreError();
      }
      break;
    }
    case 2: {
      PolicyDefaults g;
      g.SetTargetDefaultsBuffer(in, options).IgnoreError();
      std::byte out[8 + 80 * 4];
      std::size_t needed = 0;
      g.QueryTargetDefaultsBuffer(out, &needed).IgnoreError();
      break;
    }
    default: {
      PolicyDefaults g;
      g.SetMsdsmDefaultBuffer(in, options).IgnoreError();
      g.SetTimersBuffer(in).IgnoreError();
      break;
    }
  }
  return 0;
}
