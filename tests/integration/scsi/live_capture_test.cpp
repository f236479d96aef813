// Re-runs scripts/capture-targets against freshly started tgt and istgt (on
// 127.0.0.1, into a temp folder) and checks that the fresh captures decode
// exactly like the committed ones in tests/data/captures: the committed
// files stay a faithful record of what the installed targets answer.
//
// Skips when tgtd/istgt are missing, when not root (tgtd needs it), or when
// another test holds the ports 3260–3269. Takes about 20 s.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hex.h"
#include "scsi/inquiry.h"
#include "scsi/mode_sense.h"
#include "scsi/read_capacity.h"
#include "scsi/report_luns.h"
#include "scsi/rtpg.h"
#include "scsi/sense.h"
#include "scsi/vpd.h"
#include "test_io.h"

namespace openmpio::scsi {
namespace {

namespace fs = std::filesystem;
using openmpio::testing::ReadFileBytes;
using openmpio::testing::RunTool;
using openmpio::testing::TempDir;
using openmpio::testing::ToolRun;

std::set<std::string> BinFiles(const fs::path& dir) {
  std::set<std::string> names;
  if (!fs::is_directory(dir)) return names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".bin") names.insert(e.path().filename().string());
  }
  return names;
}

template <typename T>
std::string Err(const ParseResult<T>& r) {
  return std::string("error ") + ParseErrcName(r.error().code) + " at " +
         std::to_string(r.error().offset);
}

// The decoded content of a capture as text, chosen by its file name. Two
// captures "parse the same" when these strings are equal.
std::string Decoded(const std::string& name, const std::vector<std::byte>& b) {
  std::ostringstream o;
  if (name.find(".sense.bin") != std::string::npos) {
    const auto s = ParseSense(b);
    if (!s) return Err(s);
    o << "sense " << SenseKeyName(s->key) << ' ' << int{s->asc} << '/' << int{s->ascq}
      << " current=" << s->current << " desc=" << s->descriptor_format
      << " info=" << (s->information ? std::to_string(*s->information) : "-");
  } else if (name.rfind("inquiry", 0) == 0) {
    const auto i = ParseStandardInquiry(b);
    if (!i) return Err(i);
    o << "inquiry " << i->vendor << '|' << i->product << '|' << i->revision
      << " tpgs=" << int(static_cast<std::uint8_t>(i->tpgs)) << " v=" << int{i->version}
      << " len=" << i->claimed_length;
  } else if (name.rfind("vpd00", 0) == 0) {
    const auto p = ParseSupportedVpdPages(b);
    if (!p) return Err(p);
    o << "pages";
    for (auto pg : p->pages) o << ' ' << int{pg};
  } else if (name.rfind("vpd80", 0) == 0) {
    const auto p = ParseUnitSerialNumber(b);
    if (!p) return Err(p);
    o << "serial " << p->serial;
  } else if (name.rfind("vpd83", 0) == 0) {
    const auto p = ParseDeviceIdentification(b);
    if (!p) return Err(p);
    o << "designators";
    for (const auto& d : p->designators) {
      o << " [" << int(static_cast<std::uint8_t>(d.association)) << ':'
        << int(static_cast<std::uint8_t>(d.type)) << ' ' << DesignatorText(d) << ']';
    }
  } else if (name.rfind("vpdb0", 0) == 0) {
    const auto p = ParseBlockLimits(b);
    if (!p) return Err(p);
    o << "block limits " << int{p->maximum_compare_and_write_length} << ' '
      << p->optimal_transfer_length_granularity << ' ' << p->maximum_transfer_length << ' '
      << p->optimal_transfer_length;
  } else if (name.rfind("vpdb2", 0) == 0) {
    const auto p = ParseLogicalBlockProvisioning(b);
    if (!p) return Err(p);
    o << "lbp " << p->lbpu << p->lbpws << p->lbpws10 << ' '
      << int(static_cast<std::uint8_t>(p->provisioning_type));
  } else if (name.rfind("read_capacity16", 0) == 0) {
    const auto c = ParseReadCapacity16(b);
    if (!c) return Err(c);
    o << "capacity " << c->last_lba << " x " << c->block_length << " exp "
      << int{c->logical_blocks_per_physical_block_exponent};
  } else if (name.rfind("report_luns", 0) == 0) {
    const auto r = ParseReportLuns(b);
    if (!r) return Err(r);
    o << "luns";
    for (const auto& l : r->luns) o << ' ' << l.number().value_or(0xFFFF);
  } else if (name.rfind("mode_sense10", 0) == 0) {
    const auto m = ParseModeSense10(b);
    if (!m) return Err(m);
    o << "mode " << m->header.mode_data_length << " dpofua=" << m->header.dpofua
      << " wce=" << (m->caching && m->caching->wce);
  } else if (name.rfind("rtpg", 0) == 0) {
    const auto r = ParseRtpg(b);
    if (!r) return Err(r);
    o << "rtpg format=" << int(static_cast<std::uint8_t>(r->format));
    for (const auto& g : r->groups) {
      o << " [tpg " << g.target_port_group << " state " << int{g.state.raw} << " pref "
        << g.pref << " ports";
      for (auto p : g.relative_target_ports) o << ' ' << p;
      o << ']';
    }
  } else {
    o << "raw " << testing::ToHex(b);
  }
  return o.str();
}

TEST(LiveCapture, FreshCapturesDecodeLikeTheCommittedOnes) {
  for (const char* tool : {"tgtd", "tgtadm", "istgt"}) {
    if (RunTool(std::string("command -v ") + tool).exit_code != 0) {
      GTEST_SKIP() << tool << " is not installed: no live capture";
    }
  }
  if (geteuid() != 0) GTEST_SKIP() << "tgtd needs root: no live capture";

  const TempDir tmp("openmpio-live-capture");
  ASSERT_FALSE(tmp.path().empty());
  const fs::path& out = tmp.path();

  std::string env;
  const fs::path built = fs::path(OPENMPIO_BINARY_DIR) / "tools/scsi-capture/scsi-capture";
  if (fs::exists(built)) env = "SCSI_CAPTURE='" + built.string() + "' ";
  const ToolRun r = RunTool(env + "timeout 90 '" + std::string(OPENMPIO_SOURCE_DIR) +
                            "/scripts/capture-targets' '" + out.string() + "'");
  if (r.exit_code == 1 && r.output.find("already in use") != std::string::npos) {
    GTEST_SKIP() << "ports busy (another test runs targets?): " << r.output;
  }
  ASSERT_EQ(r.exit_code, 0) << r.output;

  const fs::path committed = fs::path(OPENMPIO_TEST_DATA_DIR) / "captures";
  int compared = 0;
  for (const char* target : {"tgt", "istgt"}) {
    SCOPED_TRACE(target);
    const auto want = BinFiles(committed / target);
    const auto got = BinFiles(out / target);
    EXPECT_EQ(got, want);
    for (const std::string& name : want) {
      if (got.count(name) == 0) continue;
      SCOPED_TRACE(name);
      EXPECT_EQ(Decoded(name, ReadFileBytes(out / target / name)),
                Decoded(name, ReadFileBytes(committed / target / name)));
      ++compared;
    }
  }
  EXPECT_GE(compared, 28);
}

}  // namespace
}  // namespace openmpio::scsi
