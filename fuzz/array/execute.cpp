// Fuzz Array::Execute: a sequence of arbitrary commands (CDB + data-out, any
// LUN, any port, any data-in size) and ALUA changes against the demo array.
// The array must never crash, never write past data-in (buffers are sized
// exactly, so ASan sees any overrun), never claim more data-in than fits,
// and answer CHECK CONDITION always with sense.
//
// Input: records of
//   [0] flags: bits 1..0 LUN (2 and 3 do not exist), 3..2 port - 1,
//       bit 4 advance time 1 s, bit 5 then change LU 0 group 1 (implicit),
//       bits 7..6 the state for that change (A/O, A/N, Standby, Unavailable)
//   [1] CDB length (mod 17)   [2..3] data-in size   [4..5] data-out length
//   then the CDB and the data-out (each cut at the input's end).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "array/array.h"

namespace {

using namespace openmpio;
using namespace openmpio::array;

std::size_t Take(const std::uint8_t*& p, std::size_t& left, std::size_t n) {
  const std::size_t k = n < left ? n : left;
  p += k;
  left -= k;
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto created = Array::Create(DemoArrayConfig(512));
  if (!created) std::abort();
  Array& a = **created;
  ItNexusId nexus[4];
  for (std::uint16_t port = 1; port <= 4; ++port) {
    nexus[port - 1] = a.AttachNexus(port, "iqn.fuzz", port);
  }
  TimePoint now{std::chrono::seconds(1)};
  const std::uint8_t* p = data;
  std::size_t left = size;
  for (int record = 0; record < 32 && left >= 6; ++record) {
    const std::uint8_t flags = p[0];
    const std::size_t cdb_len = p[1] % 17U;
    const std::size_t in_len = (std::size_t{p[2]} << 8) | p[3];
    const std::size_t out_len = (std::size_t{p[4]} << 8) | p[5];
    Take(p, left, 6);
    const std::vector<std::byte> cdb(reinterpret_cast<const std::byte*>(p),
                                     reinterpret_cast<const std::byte*>(p) + (cdb_len < left ? cdb_len : left));
    Take(p, left, cdb_len);
    const std::vector<std::byte> out(reinterpret_cast<const std::byte*>(p),
                                     reinterpret_cast<const std::byte*>(p) + (out_len < left ? out_len : left));
    Take(p, left, out_len);
    std::vector<std::byte> in(in_len);

    if ((flags & 0x10U) != 0) now += std::chrono::seconds(1);
    if ((flags & 0x20U) != 0) {
      const auto state = static_cast<AsymmetricAccessState>(flags >> 6);
      a.SetAccessState(0, 1, state, now, true).IgnoreError();
    }
    CommandRequest req;
    req.nexus = nexus[(flags >> 2) & 3U];
    req.lun = flags & 3U;
    req.cdb = cdb;
    req.data_out = out;
    req.data_in = in;
    const CommandResponse r = a.Execute(req, now);
    if (r.data_in_length > in.size()) std::abort();
    if (r.sense_length > kMaxSense) std::abort();
    if (r.status == scsi::ScsiStatus::kCheckCondition && r.sense_length < 18) std::abort();
    if (r.status != scsi::ScsiStatus::kCheckCondition && r.sense_length != 0) std::abort();
  }
  return 0;
}
