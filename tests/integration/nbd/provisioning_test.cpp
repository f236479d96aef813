// Thin and thick LUs of the embedded array served by nbdkit: the plugin
// derives can_trim from READ CAPACITY(16) LBPME and VPD 0xB2 LBPU, and
// zeroing with MAY_TRIM from LBPWS, so `provisioning = "thick"` in [[sim.lu]]
// must reach nbdinfo as "can_trim": false while the thin LU beside it says
// true — and a zero that allows trimming must still work on the thick LU
// (WRITE SAME without UNMAP, which the thick LU accepts).
#include <string>

#include "nbd_harness.h"

namespace openmpio::nbdtest {
namespace {

// LU 0 thick (alias "alpha"), LU 1 thin; otherwise SmallConfig's shape.
std::string ThickAndThinConfig() {
  return "[management]\nenabled = false\n\n[timers]\ncommand_timeout = 5\n\n[sim]\n" +
         SimPort(1, 1) + SimPort(2, 1) + SimPort(3, 2) + "\n" + SimLu(0, "64MiB", 1) +
         "provisioning = \"thick\"\n\n" + SimLu(1, "32MiB", 2) + "provisioning = \"thin\"\n\n" +
         AlphaDisk();
}

// The value of "key": in nbdinfo's JSON text (one export per run here).
std::string JsonValue(const std::string& json, const std::string& key) {
  const std::string quoted = "\"" + key + "\":";
  const auto at = json.find(quoted);
  if (at == std::string::npos) return "<absent>";
  auto from = json.find_first_not_of(' ', at + quoted.size());
  const auto to = json.find_first_of(",}\n", from);
  return json.substr(from, to - from);
}

TEST(Provisioning, ThickLuIsServedWithoutTrimAndThinWithTrim) {
  if (!HaveProgram("nbdkit") || !HaveProgram("nbdinfo")) {
    GTEST_SKIP() << "nbdkit and nbdinfo are needed";
  }
  ASSERT_TRUE(std::filesystem::exists(kPlugin)) << "plugin not built: " << kPlugin;
  TempDir dir;
  Server server(dir, ThickAndThinConfig());
  ASSERT_TRUE(server.ready()) << "nbdkit did not start:\n" << server.Log();

  const RunResult thick = Sh("nbdinfo --json \"" + server.Uri("alpha") + "\"");
  ASSERT_EQ(thick.exit_code, 0) << thick.output;
  EXPECT_EQ(JsonValue(thick.output, "can_trim"), "false") << thick.output;
  EXPECT_EQ(JsonValue(thick.output, "can_zero"), "true") << thick.output;
  EXPECT_EQ(JsonValue(thick.output, "export-size"), "67108864") << thick.output;

  const RunResult thin = Sh("nbdinfo --json \"" + server.Uri(kLu1) + "\"");
  ASSERT_EQ(thin.exit_code, 0) << thin.output;
  EXPECT_EQ(JsonValue(thin.output, "can_trim"), "true") << thin.output;
  EXPECT_EQ(JsonValue(thin.output, "can_zero"), "true") << thin.output;

  if (HaveProgram("qemu-io")) {
    // A zero that may unmap (qemu-io -z -u: no NBD_CMD_FLAG_NO_HOLE, so
    // nbdkit passes MAY_TRIM): on the thick LU the plugin must not ask for
    // WRITE SAME with UNMAP, which the LU refuses; the blocks read back as 0.
    const std::string uri = "\"" + server.Uri("alpha") + "\"";
    const RunResult z =
        Sh("qemu-io -f raw -c \"write -P 0x5a 1M 1M\" -c \"write -z -u 1M 1M\""
           " -c \"read -P 0 1M 1M\" " +
           uri);
    EXPECT_EQ(z.exit_code, 0) << z.output;
    EXPECT_EQ(z.output.find("failed"), std::string::npos) << z.output;
  }
  EXPECT_TRUE(server.Stop());
}

}  // namespace
}  // namespace openmpio::nbdtest
