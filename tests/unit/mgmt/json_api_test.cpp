// The JSON management API (src/mgmt/json_api.cpp) against a fake engine built
// on real dsm::Disk objects and the real dsm checks. Field names and values
// are worked by hand from spec/msdsm.md §2 (MPIO_DSM_Path_V2 table, state
// table) and §4 (checks, "Query", "Global sets").
#include "mgmt/json_api.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "fake_backend.h"

namespace openmpio::mgmt {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using testing::Populate;

constexpr std::uint32_t kSuccess = 0;
constexpr std::uint32_t kInvalid = 0xC000000D;
constexpr std::uint32_t kNoSuchDevice = 0xC000000E;
constexpr std::uint32_t kInvalidDeviceRequest = 0xC0000010;
constexpr std::uint32_t kObjectNameNotFound = 0xC0000034;
constexpr std::uint32_t kNotSupported = 0xC00000BB;
constexpr std::uint32_t kGuidNotFound = 0xC0000295;
constexpr std::uint32_t kItemIdNotFound = 0xC0000297;

class JsonApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Populate(backend); }

  json Call(const std::string& request) {
    int replies = 0;
    std::string out;
    api.Handle(request, [&](std::string r) {
      ++replies;
      out = std::move(r);
    });
    EXPECT_EQ(replies, 1);
    json j = json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << out;
    return j;
  }
  json Call(const json& request) { return Call(request.dump()); }
  json Call(const char* request) { return Call(std::string(request)); }

  static std::uint32_t StatusOf(const json& j) { return j.at("Status").get<std::uint32_t>(); }

  std::string Data() { return backend.disks[0].name.designator; }
  std::string Logs() { return backend.disks[1].name.designator; }

  json Query(const std::string& name) {
    return Call(json{{"method", "DSM_QueryLBPolicy_V2"}, {"InstanceName", name}});
  }

  FakeBackend backend;
  JsonApi api{backend};
};

// ---- queries -------------------------------------------------------------------------

TEST_F(JsonApiTest, ListDisksNamesEveryDiskWithItsAlias) {
  const json r = Call(R"({"method":"ListDisks"})");
  EXPECT_EQ(StatusOf(r), kSuccess);
  EXPECT_EQ(r["StatusName"], "STATUS_SUCCESS");
  ASSERT_EQ(r["Disks"].size(), 2U);
  EXPECT_EQ(r["Disks"][0]["InstanceName"], "naa.6001405011223301");
  EXPECT_EQ(r["Disks"][0]["Alias"], "data");
  EXPECT_EQ(r["Disks"][1]["Alias"], "logs");
}

TEST_F(JsonApiTest, QueryLbPolicyV2GivesEveryMpioDsmPathV2FieldByName) {
  const json r = Query("data");  // by alias
  ASSERT_EQ(StatusOf(r), kSuccess) << r;
  const json& lbp = r["LoadBalancePolicy"];
  EXPECT_EQ(lbp["Version"], 2);
  EXPECT_EQ(lbp["LoadBalancePolicy"], 3);  // RRWS: the default on ALUA storage (spec §3)
  EXPECT_EQ(lbp["DSMPathCount"], 4);
  EXPECT_EQ(lbp["Reserved"], 0);
  ASSERT_EQ(lbp["DSM_Paths"].size(), 4U);
  const dsm::Disk& d = backend.disks[0].disk;
  // Path 0: group 1 A/O with PREF; MSDSM state AO = (Primary 1, Optimized 1).
  const json& p0 = lbp["DSM_Paths"][0];
  EXPECT_EQ(p0["DsmPathId"], FormatId(d.paths[0].id()));
  EXPECT_EQ(p0["PathWeight"], 0);
  EXPECT_EQ(p0["PrimaryPath"], 1);
  EXPECT_EQ(p0["OptimizedPath"], 1);
  EXPECT_EQ(p0["PreferredPath"], 0);
  EXPECT_EQ(p0["FailedPath"], 0);
  EXPECT_EQ(p0["TargetPortGroup_State"], 0);  // STATE_ACTIVE_OPTIMIZED
  EXPECT_EQ(p0["ALUASupport"], 3);            // ALUA_IMPLICIT_AND_EXPLICIT
  EXPECT_EQ(p0["SymmetricLUA"], 0);
  EXPECT_EQ(p0["TargetPortGroup_Preferred"], 1);
  EXPECT_EQ(p0["TargetPortGroup_Identifier"], 1);
  EXPECT_EQ(p0["TargetPort_Identifier"], 1);
  EXPECT_EQ(p0["Reserved32"], 0);
  EXPECT_EQ(p0["Reserved64"], 0);
  // Path 2: group 2 Standby: SB = (0, 1), STATE_STANDBY 2.
  const json& p2 = lbp["DSM_Paths"][2];
  EXPECT_EQ(p2["PrimaryPath"], 0);
  EXPECT_EQ(p2["OptimizedPath"], 1);
  EXPECT_EQ(p2["TargetPortGroup_State"], 2);
  EXPECT_EQ(p2["TargetPortGroup_Preferred"], 0);
  EXPECT_EQ(p2["TargetPortGroup_Identifier"], 2);
  EXPECT_EQ(p2["TargetPort_Identifier"], 3);
  // Reserved relays dsm's supported-states mask.
  const auto q = dsm::QueryLoadBalancePolicy(d, backend.opts);
  EXPECT_EQ(p2["Reserved"], q.paths[2].reserved);
  // Exactly the fifteen fields of MPIO_DSM_Path_V2.
  EXPECT_EQ(p0.size(), 15U);
}

TEST_F(JsonApiTest, QueryOnNonAluaDiskSaysStateNotUsed) {
  const json r = Query("logs");
  ASSERT_EQ(StatusOf(r), kSuccess);
  const json& p = r["LoadBalancePolicy"]["DSM_Paths"][0];
  EXPECT_EQ(r["LoadBalancePolicy"]["LoadBalancePolicy"], 2);  // RR on non-ALUA storage
  EXPECT_EQ(p["TargetPortGroup_State"], 16);                  // STATE_NOT_USED
  EXPECT_EQ(p["ALUASupport"], 0);
  EXPECT_EQ(p["SymmetricLUA"], 1);
}

TEST_F(JsonApiTest, QueryCarriesTheRefreshStatusWithTheDataFilled) {
  // spec §4 "Query": non-symmetric implicit ALUA needs an RTPG first; if it
  // fails, its status is returned with the buffer still filled.
  backend.disks[0].disk.alua = dsm::AluaSupport::kImplicitOnly;
  backend.refresh_status = Status(NtStatus::kIoDeviceError, "RTPG failed");
  const json r = Query("data");
  EXPECT_EQ(StatusOf(r), 0xC0000185U);
  EXPECT_EQ(r["StatusName"], "STATUS_IO_DEVICE_ERROR");
  EXPECT_EQ(r["LoadBalancePolicy"]["DSM_Paths"].size(), 4U);
  EXPECT_EQ(backend.refreshes, 1);
}

TEST_F(JsonApiTest, SupportedPoliciesLeaveOutRoundRobinOnNonSymmetricAccess) {
  const json r =
      Call(json{{"method", "DSM_QuerySupportedLBPolicies_V2"}, {"InstanceName", "data"}});
  ASSERT_EQ(StatusOf(r), kSuccess);
  std::vector<std::uint32_t> got;
  for (const json& e : r["Supported_LB_Policies"]) {
    got.push_back(e["LoadBalancePolicy"].get<std::uint32_t>());
    EXPECT_EQ(e["Version"], 2);
    EXPECT_EQ(e["DSMPathCount"], 0);  // bare headers [S]
  }
  EXPECT_EQ(got, (std::vector<std::uint32_t>{1, 3, 4, 5, 6, 7}));
  EXPECT_EQ(r["SupportedLBPoliciesCount"], 6);
  const json plain =
      Call(json{{"method", "DSM_QuerySupportedLBPolicies_V2"}, {"InstanceName", "logs"}});
  EXPECT_EQ(plain["SupportedLBPoliciesCount"], 7);
}

TEST_F(JsonApiTest, UniqueIdIsFnv1aOfTheDesignatorAsHex) {
  const json r = Call(json{{"method", "DSM_QueryUniqueId"}, {"InstanceName", Data()}});
  ASSERT_EQ(StatusOf(r), kSuccess);
  const std::string id = r["DsmUniqueId"];
  EXPECT_EQ(id.size(), 18U);
  EXPECT_EQ(id, FormatId(DsmUniqueId(backend.disks[0].disk.lu_designator)));
  const json other = Call(json{{"method", "DSM_QueryUniqueId"}, {"InstanceName", Logs()}});
  EXPECT_NE(other["DsmUniqueId"], r["DsmUniqueId"]);
}

TEST(DsmUniqueIdTest, HandWorkedFnv1a) {
  // FNV-1a 64 of the bytes {00 (association), 00 (type)}:
  //   h = cbf29ce484222325 ^ 00 = cbf29ce484222325; * 100000001b3 = af63bd4c8601b7df
  //   h ^ 00 = af63bd4c8601b7df; * 100000001b3 = 08328807b4eb6fed (mod 2^64)
  scsi::Designator d;
  d.association = scsi::Association::kLogicalUnit;
  d.type = static_cast<scsi::DesignatorType>(0);
  EXPECT_EQ(DsmUniqueId(d), 0x08328807b4eb6fedULL);
}

// ---- sets ---------------------------------------------------------------------------

TEST_F(JsonApiTest, QuerySentBackAsAluaSetWithAnotherPolicySucceeds) {
  json lbp = Query("data")["LoadBalancePolicy"];
  lbp["LoadBalancePolicy"] = 4;  // LQD
  const json r = Call(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                           {"InstanceName", "data"},
                           {"LoadBalancePolicy", lbp}});
  EXPECT_EQ(StatusOf(r), kSuccess) << r;
  EXPECT_EQ(r["StatusName"], "STATUS_SUCCESS");
  EXPECT_EQ(backend.execute_calls, 1);
  EXPECT_EQ(backend.disks[0].disk.settings.policy, dsm::LoadBalancePolicy::kLeastQueueDepth);
  EXPECT_TRUE(backend.disks[0].disk.settings.explicit_policy);
  EXPECT_EQ(Query(Data())["LoadBalancePolicy"]["LoadBalancePolicy"], 4);
}

TEST_F(JsonApiTest, WeightedPathsSetStoresWeightsAndFooSetStoresPreferredPath) {
  json lbp = Query("logs")["LoadBalancePolicy"];
  lbp["LoadBalancePolicy"] = 5;
  lbp["DSM_Paths"][0]["PathWeight"] = 7;
  lbp["DSM_Paths"][1]["PathWeight"] = 3;
  EXPECT_EQ(StatusOf(Call(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                               {"InstanceName", "logs"},
                               {"LoadBalancePolicy", lbp}})),
            kSuccess);
  EXPECT_EQ(backend.disks[1].disk.paths[0].weight, 7U);
  EXPECT_EQ(backend.disks[1].disk.paths[1].weight, 3U);
  lbp["LoadBalancePolicy"] = 1;
  lbp["DSM_Paths"][1]["PreferredPath"] = 1;
  lbp["DSM_Paths"][1]["PrimaryPath"] = 0;  // FOO: one AO (path 0), path 1 SB
  EXPECT_EQ(StatusOf(Call(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                               {"InstanceName", "logs"},
                               {"LoadBalancePolicy", lbp}})),
            kSuccess);
  EXPECT_EQ(backend.disks[1].disk.settings.preferred_path, backend.disks[1].disk.paths[1].id());
}

TEST_F(JsonApiTest, V1SetTakesMpioDsmPathEntries) {
  const dsm::Disk& d = backend.disks[1].disk;
  const json lbp = {{"Version", 1},
                    {"LoadBalancePolicy", 1},
                    {"DSMPathCount", 2},
                    {"Reserved", 0},
                    {"DSM_Paths",
                     {{{"DsmPathId", FormatId(d.paths[0].id())},
                       {"Reserved", 0},
                       {"PathWeight", 0},
                       {"PrimaryPath", 1}},
                      {{"DsmPathId", FormatId(d.paths[1].id())},
                       {"Reserved", 0},
                       {"PathWeight", 0},
                       {"PrimaryPath", 0}}}}};
  const json r = Call(json{{"method", "DsmSetLoadBalancePolicy"},
                           {"class", "DSM_LB_Operations"},
                           {"InstanceName", "logs"},
                           {"LoadBalancePolicy", lbp}});
  ASSERT_EQ(StatusOf(r), kSuccess) << r;
  EXPECT_EQ(backend.disks[1].disk.settings.policy, dsm::LoadBalancePolicy::kFailOverOnly);
  // spec §4: V1 PrimaryPath 0 -> SB (persisted for FOO).
  EXPECT_EQ(backend.disks[1].disk.paths[1].requested_state, dsm::PathState::kStandby);
}

TEST_F(JsonApiTest, PolicyZeroClearsWithoutPathEntries) {
  backend.disks[1].disk.settings.policy = dsm::LoadBalancePolicy::kLeastBlocks;
  backend.disks[1].disk.settings.explicit_policy = true;
  const json r = Call(R"({"method":"DsmSetLoadBalancePolicyALUA","InstanceName":"logs",
                          "LoadBalancePolicy":{"LoadBalancePolicy":0}})");
  EXPECT_EQ(StatusOf(r), kSuccess) << r;
  EXPECT_FALSE(backend.disks[1].disk.settings.explicit_policy);
}

TEST_F(JsonApiTest, DsmCheckFailuresComeBackAndNothingExecutes) {
  json lbp = Query("data")["LoadBalancePolicy"];
  json bad = lbp;
  bad["LoadBalancePolicy"] = 9;  // check 6
  json r = Call(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                     {"InstanceName", "data"},
                     {"LoadBalancePolicy", bad}});
  EXPECT_EQ(StatusOf(r), kInvalid);
  EXPECT_EQ(r["StatusName"], "STATUS_INVALID_PARAMETER");
  EXPECT_TRUE(r.contains("Message"));
  bad = lbp;
  bad["Version"] = 3;  // check 5
  r = Call(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                {"InstanceName", "data"},
                {"LoadBalancePolicy", bad}});
  EXPECT_EQ(StatusOf(r), kNotSupported);
  bad = lbp;
  bad["LoadBalancePolicy"] = 2;  // check 10: RR on non-symmetric access
  r = Call(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                {"InstanceName", "data"},
                {"LoadBalancePolicy", bad}});
  EXPECT_EQ(StatusOf(r), kInvalid);
  EXPECT_EQ(backend.execute_calls, 0);
}

// Every field of a set, made bad one at a time: STATUS_INVALID_PARAMETER, a
// Message naming the field, and nothing reaches the engine.
TEST_F(JsonApiTest, EachBadFieldIsInvalidParameterNamingItAndChangesNothing) {
  const json good = json{{"method", "DsmSetLoadBalancePolicyALUA"},
                         {"InstanceName", "data"},
                         {"LoadBalancePolicy", Query("data")["LoadBalancePolicy"]}};
  ASSERT_EQ(good["LoadBalancePolicy"]["DSM_Paths"].size(), 4U);
  struct Case {
    const char* name;
    std::function<void(json&)> mutate;
    const char* field;
  };
  auto lbp = [](json& j) -> json& { return j["LoadBalancePolicy"]; };
  auto p1 = [](json& j) -> json& { return j["LoadBalancePolicy"]["DSM_Paths"][1]; };
  const std::vector<Case> cases = {
      {"no InstanceName", [](json& j) { j.erase("InstanceName"); }, "InstanceName"},
      {"InstanceName number", [](json& j) { j["InstanceName"] = 5; }, "InstanceName"},
      {"no LoadBalancePolicy", [](json& j) { j.erase("LoadBalancePolicy"); }, "LoadBalancePolicy"},
      {"LoadBalancePolicy array", [](json& j) { j["LoadBalancePolicy"] = json::array(); },
       "LoadBalancePolicy"},
      {"policy missing", [&](json& j) { lbp(j).erase("LoadBalancePolicy"); },
       "LoadBalancePolicy.LoadBalancePolicy"},
      {"policy string", [&](json& j) { lbp(j)["LoadBalancePolicy"] = "rr"; },
       "LoadBalancePolicy.LoadBalancePolicy"},
      {"policy negative", [&](json& j) { lbp(j)["LoadBalancePolicy"] = -1; },
       "LoadBalancePolicy.LoadBalancePolicy"},
      {"policy 2^32", [&](json& j) { lbp(j)["LoadBalancePolicy"] = 4294967296ULL; },
       "LoadBalancePolicy.LoadBalancePolicy"},
      {"policy float", [&](json& j) { lbp(j)["LoadBalancePolicy"] = 3.5; },
       "LoadBalancePolicy.LoadBalancePolicy"},
      {"Version missing", [&](json& j) { lbp(j).erase("Version"); }, "LoadBalancePolicy.Version"},
      {"Version bool", [&](json& j) { lbp(j)["Version"] = true; }, "LoadBalancePolicy.Version"},
      {"DSMPathCount missing", [&](json& j) { lbp(j).erase("DSMPathCount"); },
       "LoadBalancePolicy.DSMPathCount"},
      {"DSMPathCount null", [&](json& j) { lbp(j)["DSMPathCount"] = nullptr; },
       "LoadBalancePolicy.DSMPathCount"},
      {"Reserved string", [&](json& j) { lbp(j)["Reserved"] = "0"; }, "LoadBalancePolicy.Reserved"},
      {"DSM_Paths missing", [&](json& j) { lbp(j).erase("DSM_Paths"); },
       "LoadBalancePolicy.DSM_Paths"},
      {"DSM_Paths object", [&](json& j) { lbp(j)["DSM_Paths"] = json::object(); },
       "LoadBalancePolicy.DSM_Paths"},
      {"entry not object", [&](json& j) { lbp(j)["DSM_Paths"][1] = 7; },
       "LoadBalancePolicy.DSM_Paths[1]"},
      {"DsmPathId missing", [&](json& j) { p1(j).erase("DsmPathId"); },
       "LoadBalancePolicy.DSM_Paths[1].DsmPathId"},
      {"DsmPathId junk", [&](json& j) { p1(j)["DsmPathId"] = "0xZZ"; },
       "LoadBalancePolicy.DSM_Paths[1].DsmPathId"},
      {"DsmPathId 2^64", [&](json& j) { p1(j)["DsmPathId"] = "0x10000000000000000"; },
       "LoadBalancePolicy.DSM_Paths[1].DsmPathId"},
      {"DsmPathId float", [&](json& j) { p1(j)["DsmPathId"] = 1.8e19; },
       "LoadBalancePolicy.DSM_Paths[1].DsmPathId"},
      {"PathWeight missing", [&](json& j) { p1(j).erase("PathWeight"); },
       "LoadBalancePolicy.DSM_Paths[1].PathWeight"},
      {"PathWeight 2^32", [&](json& j) { p1(j)["PathWeight"] = 4294967296ULL; },
       "LoadBalancePolicy.DSM_Paths[1].PathWeight"},
      {"PathWeight as hex string", [&](json& j) { p1(j)["PathWeight"] = "0x1"; },
       "LoadBalancePolicy.DSM_Paths[1].PathWeight"},
      {"PrimaryPath missing", [&](json& j) { p1(j).erase("PrimaryPath"); },
       "LoadBalancePolicy.DSM_Paths[1].PrimaryPath"},
      {"OptimizedPath missing", [&](json& j) { p1(j).erase("OptimizedPath"); },
       "LoadBalancePolicy.DSM_Paths[1].OptimizedPath"},
      {"PreferredPath object", [&](json& j) { p1(j)["PreferredPath"] = json::object(); },
       "LoadBalancePolicy.DSM_Paths[1].PreferredPath"},
      {"SymmetricLUA 256", [&](json& j) { p1(j)["SymmetricLUA"] = 256; },
       "LoadBalancePolicy.DSM_Paths[1].SymmetricLUA"},
      {"TPG id 65536", [&](json& j) { p1(j)["TargetPortGroup_Identifier"] = 65536; },
       "LoadBalancePolicy.DSM_Paths[1].TargetPortGroup_Identifier"},
      {"Reserved64 negative", [&](json& j) { p1(j)["Reserved64"] = -5; },
       "LoadBalancePolicy.DSM_Paths[1].Reserved64"},
  };
  const dsm::PolicySettings before = backend.disks[0].disk.settings;
  for (const Case& c : cases) {
    json req = good;
    c.mutate(req);
    const json r = Call(req);
    EXPECT_EQ(StatusOf(r), kInvalid) << c.name << ": " << r;
    const std::string msg = r.value("Message", "");
    EXPECT_EQ(msg.rfind(c.field, 0), 0U) << c.name << ": " << msg;
  }
  EXPECT_EQ(backend.execute_calls, 0);
  EXPECT_EQ(backend.disks[0].disk.settings.policy, before.policy);
  EXPECT_EQ(backend.disks[0].disk.settings.explicit_policy, before.explicit_policy);
  // The unchanged request works, so each case failed for its own field.
  EXPECT_EQ(StatusOf(Call(good)), kSuccess);
}

TEST_F(JsonApiTest, DsmPathIdAboveTwoToThe53WorksAsStringAndAsExactNumber) {
  // An id whose low bits a double cannot hold: 2^63 + 2^60 + 1.
  constexpr std::uint64_t kBig = 0x9000000000000001ULL;
  backend.disks[1].disk.paths[0].nexus = dsm::testing::MakeNexus(20);
  backend.disks[1].disk.paths[0].nexus->id = kBig;
  backend.disks[1].perf[0].path_id = kBig;
  const json q = Query("logs");
  EXPECT_EQ(q["LoadBalancePolicy"]["DSM_Paths"][0]["DsmPathId"], "0x9000000000000001");
  json lbp = q["LoadBalancePolicy"];
  lbp["LoadBalancePolicy"] = 4;
  // As a hex string (what replies use).
  EXPECT_EQ(StatusOf(Call(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                               {"InstanceName", "logs"},
                               {"LoadBalancePolicy", lbp}})),
            kSuccess);
  // As a decimal string and as an exact JSON number (nlohmann keeps uint64).
  lbp["DSM_Paths"][0]["DsmPathId"] = "10376293541461622785";
  EXPECT_EQ(StatusOf(Call(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                               {"InstanceName", "logs"},
                               {"LoadBalancePolicy", lbp}})),
            kSuccess);
  const std::string text =
      R"({"method":"DsmSetLoadBalancePolicyALUA","InstanceName":"logs",
      "LoadBalancePolicy":{"Version":2,"LoadBalancePolicy":6,"DSMPathCount":2,"DSM_Paths":[
      {"DsmPathId":10376293541461622785,"PathWeight":0,"PrimaryPath":1,"OptimizedPath":1,"PreferredPath":0},
      {"DsmPathId":")" +
      FormatId(backend.disks[1].disk.paths[1].id()) +
      R"(","PathWeight":0,"PrimaryPath":1,"OptimizedPath":1,"PreferredPath":0}]}})";
  EXPECT_EQ(StatusOf(Call(text)), kSuccess);
  EXPECT_EQ(backend.disks[1].disk.settings.policy, dsm::LoadBalancePolicy::kLeastBlocks);
  // One off (…802): the id matches no path, so check 9 fails: precision kept.
  std::string off = text;
  off.replace(off.find("10376293541461622785"), 20, "10376293541461622786");
  EXPECT_EQ(StatusOf(Call(off)), kInvalid);
  EXPECT_EQ(backend.execute_calls, 3);
}

TEST(ParseIdTextTest, HexDecimalAndOverflow) {
  EXPECT_EQ(ParseIdText("0x9000000000000001"), 0x9000000000000001ULL);
  EXPECT_EQ(ParseIdText("0XFF"), 255U);
  EXPECT_EQ(ParseIdText("18446744073709551615"), ~std::uint64_t{0});
  EXPECT_EQ(ParseIdText("18446744073709551616"), std::nullopt);
  EXPECT_EQ(ParseIdText("0x"), std::nullopt);
  EXPECT_EQ(ParseIdText("-1"), std::nullopt);
  EXPECT_EQ(ParseIdText("12 "), std::nullopt);
  EXPECT_EQ(FormatId(1), "0x0000000000000001");
}

TEST(PolicyNameTest, ShortNamesAndNumbers) {
  EXPECT_EQ(ParsePolicyName("foo"), 1U);
  EXPECT_EQ(ParsePolicyName("rr"), 2U);
  EXPECT_EQ(ParsePolicyName("rrws"), 3U);
  EXPECT_EQ(ParsePolicyName("lqd"), 4U);
  EXPECT_EQ(ParsePolicyName("wp"), 5U);
  EXPECT_EQ(ParsePolicyName("lb"), 6U);
  EXPECT_EQ(ParsePolicyName("st"), 7U);
  EXPECT_EQ(ParsePolicyName("4"), 4U);
  EXPECT_EQ(ParsePolicyName("8"), std::nullopt);
  EXPECT_EQ(ParsePolicyName("RR"), std::nullopt);
  EXPECT_STREQ(PolicyShortName(3), "rrws");
}

// ---- malformed requests ----------------------------------------------------------------

TEST_F(JsonApiTest, NotJsonNotAnObjectAndNoMethodAreInvalidParameter) {
  for (const char* text : {"", "{", "hello", "{\"method\":\"ListDisks\"", "[1,2]", "42", "null",
                           "{}", "{\"method\":7}", "{\"method\":\"ListDisks\",\"class\":1}"}) {
    const json r = Call(std::string(text));
    EXPECT_EQ(StatusOf(r), kInvalid) << text;
    EXPECT_EQ(r["StatusName"], "STATUS_INVALID_PARAMETER");
    EXPECT_TRUE(r.contains("Message"));
  }
}

TEST_F(JsonApiTest, OversizeRequestIsRefusedBeforeParsing) {
  std::string big = R"({"method":"ListDisks","pad":")";
  big.append(kMaxRequestBytes, 'x');
  big += "\"}";
  const json r = Call(big);
  EXPECT_EQ(StatusOf(r), kInvalid);
  EXPECT_NE(r["Message"].get<std::string>().find("longer"), std::string::npos);
}

TEST_F(JsonApiTest, UnknownMethodIsItemIdUnknownClassIsGuid) {
  EXPECT_EQ(StatusOf(Call(R"({"method":"DsmFrobnicate","InstanceName":"data"})")), kItemIdNotFound);
  EXPECT_EQ(StatusOf(Call(R"({"method":"DsmFrobnicate","class":"DSM_LB_Operations"})")),
            kItemIdNotFound);
  // A known method named under the wrong class.
  EXPECT_EQ(StatusOf(Call(R"({"method":"MSDsmClearCounters","class":"DSM_LB_Operations",
                            "InstanceName":"data"})")),
            kItemIdNotFound);
  const json r = Call(R"({"method":"DsmSetLoadBalancePolicy","class":"Win32_Nope"})");
  EXPECT_EQ(StatusOf(r), kGuidNotFound);
  EXPECT_EQ(r["StatusName"], "STATUS_WMI_GUID_NOT_FOUND");
  EXPECT_EQ(backend.clear_calls, 0);
}

TEST_F(JsonApiTest, UnknownDiskIsNoSuchDevice) {
  json lbp = Query("data")["LoadBalancePolicy"];
  for (const char* method :
       {"DSM_QueryLBPolicy_V2", "DSM_QuerySupportedLBPolicies_V2", "DSM_QueryUniqueId",
        "MSDSM_DEVICE_PERF", "MSDsmClearCounters", "Why", "Show"}) {
    const json r = Call(json{{"method", method}, {"InstanceName", "naa.deadbeef"}});
    EXPECT_EQ(StatusOf(r), kNoSuchDevice) << method;
    EXPECT_EQ(r["StatusName"], "STATUS_NO_SUCH_DEVICE");
  }
  const json r = Call(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                           {"InstanceName", "nope"},
                           {"LoadBalancePolicy", lbp}});
  EXPECT_EQ(StatusOf(r), kNoSuchDevice);
  EXPECT_EQ(backend.execute_calls, 0);
  EXPECT_EQ(backend.clear_calls, 0);
}

TEST_F(JsonApiTest, SetOnReadOnlyClassIsRefused) {
  const json r = Call(R"({"method":"DSM_QueryLBPolicy_V2","InstanceName":"data","Set":{}})");
  EXPECT_EQ(StatusOf(r), kInvalidDeviceRequest);
}

// ---- global classes -------------------------------------------------------------------

TEST_F(JsonApiTest, MsdsmDefaultUnsetSetGetAndBadValues) {
  EXPECT_EQ(StatusOf(Call(R"({"method":"MSDSM_DEFAULT_LOAD_BALANCE_POLICY"})")),
            kObjectNameNotFound);
  EXPECT_EQ(StatusOf(Call(R"({"method":"MSDSM_DEFAULT_LOAD_BALANCE_POLICY",
                            "Set":{"LoadBalancePolicy":4,"PreferredPath":"0x10"}})")),
            kSuccess);
  const json r = Call(R"({"method":"MSDSM_DEFAULT_LOAD_BALANCE_POLICY"})");
  EXPECT_EQ(StatusOf(r), kSuccess);
  EXPECT_EQ(r["LoadBalancePolicy"], 4);
  EXPECT_EQ(r["PreferredPath"], "0x0000000000000010");
  EXPECT_EQ(r["Reserved"], 0);
  // spec §4: policy >= 8 (7 allowed unless strict) INVALID, from dsm.
  EXPECT_EQ(StatusOf(Call(R"({"method":"MSDSM_DEFAULT_LOAD_BALANCE_POLICY",
                            "Set":{"LoadBalancePolicy":9}})")),
            kInvalid);
  const int updates = backend.update_calls;
  for (
      const char* bad :
      {R"({"method":"MSDSM_DEFAULT_LOAD_BALANCE_POLICY","Set":{}})",
       R"({"method":"MSDSM_DEFAULT_LOAD_BALANCE_POLICY","Set":5})",
       R"({"method":"MSDSM_DEFAULT_LOAD_BALANCE_POLICY","Set":{"LoadBalancePolicy":"x"}})",
       R"({"method":"MSDSM_DEFAULT_LOAD_BALANCE_POLICY","Set":{"LoadBalancePolicy":1,"PreferredPath":-1}})"}) {
    EXPECT_EQ(StatusOf(Call(std::string(bad))), kInvalid) << bad;
  }
  EXPECT_EQ(backend.update_calls, updates);
  EXPECT_EQ(backend.defaults.MsdsmDefault()->policy, dsm::LoadBalancePolicy::kLeastQueueDepth);
}

TEST_F(JsonApiTest, TargetsDefaultSetGetAndEntryChecks) {
  const std::string hw =
      "OPENMPIO"
      "SIMDISK         ";
  json set = {{"method", "MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY"},
              {"Set",
               {{"NumberDevices", 1},
                {"TargetDefaultPolicyInfo", {{{"HardwareId", hw}, {"LoadBalancePolicy", 5}}}}}}};
  EXPECT_EQ(StatusOf(Call(set)), kSuccess);
  const json r = Call(R"({"method":"MSDSM_TARGETS_DEFAULT_LOAD_BALANCE_POLICY"})");
  EXPECT_EQ(r["NumberDevices"], 1);
  EXPECT_EQ(r["TargetDefaultPolicyInfo"][0]["HardwareId"], hw);
  EXPECT_EQ(r["TargetDefaultPolicyInfo"][0]["LoadBalancePolicy"], 5);
  EXPECT_EQ(r["TargetDefaultPolicyInfo"][0]["PreferredPath"], "0x0000000000000000");
  // A 23-character HardwareId: the entry is skipped and its error returned (spec §4).
  set["Set"]["TargetDefaultPolicyInfo"][0]["HardwareId"] = hw.substr(1);
  EXPECT_EQ(StatusOf(Call(set)), kInvalid);
  const int updates = backend.update_calls;
  json zero = set;
  zero["Set"]["NumberDevices"] = 0;  // [C] INVALID
  EXPECT_EQ(StatusOf(Call(zero)), kInvalid);
  json mismatch = set;
  mismatch["Set"]["NumberDevices"] = 2;
  EXPECT_EQ(StatusOf(Call(mismatch)), kInvalid);
  json no_hw = set;
  no_hw["Set"]["TargetDefaultPolicyInfo"][0].erase("HardwareId");
  const json r2 = Call(no_hw);
  EXPECT_EQ(StatusOf(r2), kInvalid);
  EXPECT_EQ(r2["Message"], "Set.TargetDefaultPolicyInfo[0].HardwareId: missing");
  EXPECT_EQ(backend.update_calls, updates);
}

TEST_F(JsonApiTest, TimersGetDefaultsPartialSetAndRange) {
  json r = Call(R"({"method":"MPIO_TIMERS_COUNTERS"})");
  EXPECT_EQ(r["PathVerifyEnabled"], 0);
  EXPECT_EQ(r["PathVerificationPeriod"], 30);
  EXPECT_EQ(r["PDORemovePeriod"], 20);
  EXPECT_EQ(r["RetryCount"], 3);
  EXPECT_EQ(r["RetryInterval"], 1);
  EXPECT_EQ(StatusOf(Call(R"({"method":"MPIO_TIMERS_COUNTERS","Set":{"RetryCount":10}})")),
            kSuccess);
  r = Call(R"({"method":"MPIO_TIMERS_COUNTERS"})");
  EXPECT_EQ(r["RetryCount"], 10);
  EXPECT_EQ(r["PDORemovePeriod"], 20);
  // spec §5: RetryCount max 500 (dsm's check).
  EXPECT_EQ(StatusOf(Call(R"({"method":"MPIO_TIMERS_COUNTERS","Set":{"RetryCount":501}})")),
            kInvalid);
  // The configuration file refuses a period of 0; so does management (issue
  // 13 item 2: it was accepted, saved, and the next start refused the file).
  EXPECT_EQ(
      StatusOf(Call(R"({"method":"MPIO_TIMERS_COUNTERS","Set":{"PathVerificationPeriod":0}})")),
      kInvalid);
  EXPECT_EQ(backend.defaults.timers().path_verification_period, 30U);
  const int updates = backend.update_calls;
  EXPECT_EQ(StatusOf(Call(R"({"method":"MPIO_TIMERS_COUNTERS","Set":{"RetryCount":"7"}})")),
            kInvalid);
  EXPECT_EQ(StatusOf(Call(R"({"method":"MPIO_TIMERS_COUNTERS","Set":{}})")), kInvalid);
  EXPECT_EQ(backend.update_calls, updates);
  EXPECT_EQ(backend.defaults.timers().retry_count, 10U);
}

// ---- counters, show, why, sim, save ---------------------------------------------------

TEST_F(JsonApiTest, DevicePerfAndClearCounters) {
  json r = Call(json{{"method", "MSDSM_DEVICE_PERF"}, {"InstanceName", "logs"}});
  ASSERT_EQ(StatusOf(r), kSuccess);
  EXPECT_EQ(r["NumberPaths"], 2);
  EXPECT_EQ(r["PerfInfo"][0]["PathId"], FormatId(backend.disks[1].disk.paths[0].id()));
  EXPECT_EQ(r["PerfInfo"][0]["NumberReads"], 10);
  EXPECT_EQ(r["PerfInfo"][0]["NumberWrites"], 5);
  EXPECT_EQ(r["PerfInfo"][0]["BytesRead"], 40960);
  EXPECT_EQ(r["PerfInfo"][0]["BytesWritten"], 20480);
  EXPECT_EQ(StatusOf(Call(json{{"method", "MSDsmClearCounters"},
                               {"class", "MSDSM_WMI_METHODS"},
                               {"InstanceName", "logs"}})),
            kSuccess);
  r = Call(json{{"method", "MSDSM_DEVICE_PERF"}, {"InstanceName", "logs"}});
  EXPECT_EQ(r["PerfInfo"][0]["NumberReads"], 0);
  EXPECT_EQ(backend.clear_calls, 1);
}

TEST_F(JsonApiTest, ShowGivesTheTreeOfEveryDisk) {
  const json r = Call(R"({"method":"Show"})");
  ASSERT_EQ(StatusOf(r), kSuccess);
  ASSERT_EQ(r["Disks"].size(), 2U);
  const json& d = r["Disks"][0];
  EXPECT_EQ(d["Alias"], "data");
  EXPECT_EQ(d["PolicyName"], "rrws");
  ASSERT_EQ(d["TargetPortGroups"].size(), 2U);
  EXPECT_EQ(d["TargetPortGroups"][1]["State"], "Standby");
  ASSERT_EQ(d["Paths"].size(), 4U);
  EXPECT_EQ(d["Paths"][0]["State"], "AO");
  EXPECT_EQ(d["Paths"][0]["Usable"], true);
  EXPECT_EQ(d["Paths"][2]["State"], "SB");
  EXPECT_EQ(d["Paths"][2]["Usable"], false);
  EXPECT_EQ(d["Paths"][2]["Portal"], "192.0.2.3:3260");
  // The I_T nexus of the path (dsm_fixture.h MakeNexus(2)).
  EXPECT_EQ(d["Paths"][2]["TargetName"], "iqn.2024-01.org.openmpio:array");
  EXPECT_EQ(d["Paths"][2]["InitiatorName"], "iqn.2024-01.org.openmpio:test");
  EXPECT_EQ(d["Paths"][2]["Isid"], "0x23d000000002");
  EXPECT_EQ(d["Paths"][2]["PortalGroupTag"], 3);
  EXPECT_EQ(d["Paths"][2]["TargetPortGroup_Identifier"], 2);
  const json one = Call(R"({"method":"Show","InstanceName":"logs"})");
  ASSERT_EQ(one["Disks"].size(), 1U);
  EXPECT_EQ(one["Disks"][0]["TargetPortGroups"].size(), 0U);
}

// Beyond MSDSM_DEVICEPATH_PERF, Show carries each path's retries and its
// non-empty latency buckets (the last one open-ended: ToUs null); the MSDSM
// class itself keeps exactly its own fields.
TEST_F(JsonApiTest, ShowCarriesRetriesAndLatencyBucketsAndThePerfClassDoesNot) {
  const json r = Call(R"({"method":"Show","InstanceName":"data"})");
  ASSERT_EQ(StatusOf(r), kSuccess);
  const json& p = r["Disks"][0]["Paths"][0];
  EXPECT_EQ(p["Retries"], 2);
  EXPECT_EQ(p["LatencyUs"], json::parse(R"([{"FromUs":128,"ToUs":256,"Count":12},)"
                                        R"({"FromUs":1048576,"ToUs":null,"Count":1}])"));
  const json perf = Call(R"({"method":"MSDSM_DEVICE_PERF","InstanceName":"data"})");
  ASSERT_EQ(StatusOf(perf), kSuccess);
  const json& e = perf["PerfInfo"][0];
  EXPECT_EQ(e.size(), 5U) << e.dump();  // PathId, NumberReads/Writes, BytesRead/Written
  EXPECT_FALSE(e.contains("Retries"));
}

TEST_F(JsonApiTest, WhySaysWhichPathsCarryIoAndWhyOthersAreOut) {
  backend.disks[0].disk.paths[1].verification = dsm::PathVerification::kFailed;
  const json r = Call(R"({"method":"Why","InstanceName":"data"})");
  ASSERT_EQ(StatusOf(r), kSuccess);
  const json& p = r["Paths"];
  EXPECT_EQ(p[0]["Used"], true);
  EXPECT_EQ(p[0]["Reason"], "carries I/O: AO");
  EXPECT_EQ(p[1]["Used"], false);
  EXPECT_EQ(p[1]["Reason"], "out: the path failed");
  EXPECT_EQ(p[2]["Reason"], "out: SB; the policy uses the AO paths while any is usable");
  // Fail Over Only: one path.
  backend.disks[1].disk.settings.policy = dsm::LoadBalancePolicy::kFailOverOnly;
  const json f = Call(R"({"method":"Why","InstanceName":"logs"})");
  EXPECT_EQ(f["PolicyName"], "foo");
  EXPECT_EQ(f["Paths"][0]["Used"], true);
  EXPECT_EQ(f["Paths"][1]["Used"], false);
  EXPECT_NE(f["Paths"][1]["Reason"].get<std::string>().find("Fail Over Only uses one path"),
            std::string::npos);
}

TEST_F(JsonApiTest, SimControlActionsAndChecks) {
  EXPECT_EQ(
      StatusOf(Call(R"({"method":"SimControl","Action":"FailPort","TargetPort_Identifier":3})")),
      kSuccess);
  EXPECT_EQ(StatusOf(Call(R"({"method":"SimControl","Action":"SetState","LUN":0,
                            "TargetPortGroup_Identifier":2,"State":"AO"})")),
            kSuccess);
  ASSERT_EQ(backend.fake_sim.requests.size(), 2U);
  EXPECT_EQ(backend.fake_sim.requests[0].action, SimAction::kFailPort);
  EXPECT_EQ(backend.fake_sim.requests[0].relative_target_port, 3);
  EXPECT_EQ(backend.fake_sim.requests[1].action, SimAction::kSetState);
  EXPECT_EQ(backend.fake_sim.requests[1].target_port_group, 2);
  EXPECT_EQ(backend.fake_sim.requests[1].state, scsi::AsymmetricAccessState::kActiveOptimized);
  for (
      const char* bad :
      {R"({"method":"SimControl","Action":"Explode","TargetPort_Identifier":3})",
       R"({"method":"SimControl","Action":"HangPort"})",
       R"({"method":"SimControl","Action":"HangPort","TargetPort_Identifier":70000})",
       R"({"method":"SimControl","Action":"SetState","LUN":0,"TargetPortGroup_Identifier":2,"State":"XX"})",
       R"({"method":"SimControl","Action":"SetState","LUN":0,"TargetPortGroup_Identifier":2,"State":5})",
       // Issue 13 item 8: a transient state, not a target (the array refused
       // it after the decode had accepted it).
       R"({"method":"SimControl","Action":"SetState","LUN":0,"TargetPortGroup_Identifier":2,"State":"Transitioning"})",
       R"({"method":"SimControl","Action":"SetState","LUN":0,"TargetPortGroup_Identifier":2,"State":15})"}) {
    EXPECT_EQ(StatusOf(Call(std::string(bad))), kInvalid) << bad;
  }
  EXPECT_EQ(backend.fake_sim.requests.size(), 2U);
  backend.has_sim = false;
  EXPECT_EQ(
      StatusOf(Call(R"({"method":"SimControl","Action":"RestorePort","TargetPort_Identifier":3})")),
      kNotSupported);
}

// The LU inventory actions: AddLu (LUN, BlockCount, optional OwnerGroup and
// Provisioning), RemoveLu (LUN), ResizeLu (LUN, BlockCount); a bad field is
// refused before the backend is asked, naming it.
TEST_F(JsonApiTest, SimControlLuInventory) {
  EXPECT_EQ(StatusOf(Call(R"({"method":"SimControl","Action":"AddLu","LUN":2,"BlockCount":4096})")),
            kSuccess);
  EXPECT_EQ(StatusOf(Call(R"({"method":"SimControl","Action":"AddLu","LUN":3,"BlockCount":"0x800",
                            "OwnerGroup":2,"Provisioning":"thick"})")),
            kSuccess);
  EXPECT_EQ(
      StatusOf(Call(R"({"method":"SimControl","Action":"ResizeLu","LUN":2,"BlockCount":8192})")),
      kSuccess);
  EXPECT_EQ(StatusOf(Call(R"({"method":"SimControl","Action":"RemoveLu","LUN":3})")), kSuccess);
  const auto& q = backend.fake_sim.requests;
  ASSERT_EQ(q.size(), 4U);
  EXPECT_EQ(q[0].action, SimAction::kAddLu);
  EXPECT_EQ(q[0].lun, 2U);
  EXPECT_EQ(q[0].block_count, 4096U);
  EXPECT_EQ(q[0].owner_group, 0);
  EXPECT_FALSE(q[0].thick);
  EXPECT_EQ(q[1].block_count, 2048U);
  EXPECT_EQ(q[1].owner_group, 2);
  EXPECT_TRUE(q[1].thick);
  EXPECT_EQ(q[2].action, SimAction::kResizeLu);
  EXPECT_EQ(q[2].block_count, 8192U);
  EXPECT_EQ(q[3].action, SimAction::kRemoveLu);
  EXPECT_EQ(q[3].lun, 3U);
  struct Bad {
    const char* request;
    const char* field;
  };
  for (
      const Bad& bad : std::vector<Bad>{
          {R"({"method":"SimControl","Action":"AddLu","BlockCount":1})", "LUN"},
          {R"({"method":"SimControl","Action":"AddLu","LUN":2})", "BlockCount"},
          {R"({"method":"SimControl","Action":"AddLu","LUN":2,"BlockCount":0})", "BlockCount"},
          {R"({"method":"SimControl","Action":"AddLu","LUN":2,"BlockCount":1,"OwnerGroup":70000})",
           "OwnerGroup"},
          {R"({"method":"SimControl","Action":"AddLu","LUN":2,"BlockCount":1,"Provisioning":"fat"})",
           "Provisioning"},
          {R"({"method":"SimControl","Action":"AddLu","LUN":2,"BlockCount":1,"Provisioning":1})",
           "Provisioning"},
          {R"({"method":"SimControl","Action":"RemoveLu"})", "LUN"},
          {R"({"method":"SimControl","Action":"ResizeLu","LUN":0})", "BlockCount"},
          {R"({"method":"SimControl","Action":"ResizeLu","LUN":0,"BlockCount":-5})",
           "BlockCount"}}) {
    const json r = Call(std::string(bad.request));
    EXPECT_EQ(StatusOf(r), kInvalid) << bad.request;
    EXPECT_EQ(r.value("Message", "").rfind(bad.field, 0), 0U) << bad.request << " → " << r.dump();
  }
  EXPECT_EQ(q.size(), 4U) << "nothing reached the backend";
}

// CorruptRead carries (LUN, FirstLBA, BlockCount) to the backend unchanged,
// ULONGLONGs as numbers or "0x" strings like every other ULONGLONG field;
// ClearFaults has no fields. A bad field is refused before the backend is
// asked, with a message that names the field.
TEST_F(JsonApiTest, SimControlCorruptReadAndClearFaults) {
  EXPECT_EQ(StatusOf(Call(R"({"method":"SimControl","Action":"CorruptRead","LUN":0,
                            "FirstLBA":32768,"BlockCount":256})")),
            kSuccess);
  EXPECT_EQ(StatusOf(Call(R"({"method":"SimControl","Action":"CorruptRead","LUN":"0x1",
                            "FirstLBA":"0xFFFFFFFFFFFFFFFF","BlockCount":1})")),
            kSuccess);
  EXPECT_EQ(StatusOf(Call(R"({"method":"SimControl","Action":"ClearFaults"})")), kSuccess);
  ASSERT_EQ(backend.fake_sim.requests.size(), 3U);
  EXPECT_EQ(backend.fake_sim.requests[0].action, SimAction::kCorruptRead);
  EXPECT_EQ(backend.fake_sim.requests[0].lun, 0U);
  EXPECT_EQ(backend.fake_sim.requests[0].first_lba, 32768U);
  EXPECT_EQ(backend.fake_sim.requests[0].block_count, 256U);
  EXPECT_EQ(backend.fake_sim.requests[1].action, SimAction::kCorruptRead);
  EXPECT_EQ(backend.fake_sim.requests[1].lun, 1U);
  EXPECT_EQ(backend.fake_sim.requests[1].first_lba, 0xFFFFFFFFFFFFFFFFULL);
  EXPECT_EQ(backend.fake_sim.requests[1].block_count, 1U);
  EXPECT_EQ(backend.fake_sim.requests[2].action, SimAction::kClearFaults);

  struct Bad {
    const char* request;
    const char* field;  // the message starts with it
  };
  for (
      const Bad& bad : std::vector<Bad>{
          {R"({"method":"SimControl","Action":"CorruptRead","FirstLBA":0,"BlockCount":1})", "LUN"},
          {R"({"method":"SimControl","Action":"CorruptRead","LUN":0,"BlockCount":1})", "FirstLBA"},
          {R"({"method":"SimControl","Action":"CorruptRead","LUN":0,"FirstLBA":0})", "BlockCount"},
          {R"({"method":"SimControl","Action":"CorruptRead","LUN":-1,"FirstLBA":0,"BlockCount":1})",
           "LUN"},
          {R"({"method":"SimControl","Action":"CorruptRead","LUN":0,"FirstLBA":1.5,"BlockCount":1})",
           "FirstLBA"},
          {R"({"method":"SimControl","Action":"CorruptRead","LUN":0,"FirstLBA":"12x","BlockCount":1})",
           "FirstLBA"},
          {R"({"method":"SimControl","Action":"CorruptRead","LUN":0,"FirstLBA":0,"BlockCount":0})",
           "BlockCount"},
          {R"({"method":"SimControl","Action":"CorruptRead","LUN":0,"FirstLBA":0,"BlockCount":true})",
           "BlockCount"},
          // 2^64 - 1 + 2 wraps: the range has no end.
          {R"({"method":"SimControl","Action":"CorruptRead","LUN":0,
                "FirstLBA":"0xFFFFFFFFFFFFFFFF","BlockCount":2})",
           "BlockCount"},
          {R"({"method":"SimControl","Action":"CorruptReads","LUN":0,"FirstLBA":0,"BlockCount":1})",
           "Action"}}) {
    const json r = Call(std::string(bad.request));
    EXPECT_EQ(StatusOf(r), kInvalid) << bad.request;
    EXPECT_EQ(r["Message"].get<std::string>().rfind(std::string(bad.field) + ":", 0), 0U)
        << bad.request << " -> " << r.dump();
  }
  EXPECT_EQ(backend.fake_sim.requests.size(), 3U);
  backend.has_sim = false;
  EXPECT_EQ(StatusOf(Call(R"({"method":"SimControl","Action":"ClearFaults"})")), kNotSupported);
}

// A deeply nested value where a scalar belongs must not be serialized back
// into the error message: that recursion overflowed the stack (the fuzzer's
// finding). 200,000 levels is a 400 KB line, under the 1 MiB limit.
TEST_F(JsonApiTest, DeeplyNestedValueIsRefusedWithoutRecursing) {
  constexpr std::size_t kDepth = 200000;
  std::string request =
      R"({"method":"SimControl","Action":"SetState","LUN":0,"TargetPortGroup_Identifier":2,"State":)";
  request.append(kDepth, '[');
  request.append(kDepth, ']');
  request += "}";
  const json r = Call(request);
  EXPECT_EQ(StatusOf(r), kInvalid);
  EXPECT_NE(r["Message"].get<std::string>().find("<array>"), std::string::npos) << r.dump();
  EXPECT_TRUE(backend.fake_sim.requests.empty());
}

TEST_F(JsonApiTest, LongStringsAreCutInMessages) {
  const std::string big(5000, 'x');
  const json r = Call(json{{"method", "SimControl"},
                           {"Action", "SetState"},
                           {"LUN", 0},
                           {"TargetPortGroup_Identifier", 2},
                           {"State", big}});
  EXPECT_EQ(StatusOf(r), kInvalid);
  EXPECT_LT(r["Message"].get<std::string>().size(), 400U) << r["Message"];
}

TEST_F(JsonApiTest, EventsListsTheEnginesStateChangesOldestFirst) {
  backend.events = {{1500, "alpha", "path 0x01 failed: connection lost"},
                    {2250, "", "engine started"}};
  const json r = Call(R"({"method":"Events"})");
  EXPECT_EQ(StatusOf(r), kSuccess);
  ASSERT_EQ(r["Events"].size(), 2U);
  EXPECT_EQ(r["Events"][0]["TimeMs"], 1500U);
  EXPECT_EQ(r["Events"][0]["Disk"], "alpha");
  EXPECT_EQ(r["Events"][0]["Text"], "path 0x01 failed: connection lost");
  EXPECT_EQ(r["Events"][1]["Disk"], "");
  backend.events.clear();
  EXPECT_TRUE(Call(R"({"method":"Events"})")["Events"].empty());
  EXPECT_EQ(StatusOf(Call(R"({"method":"Events","Set":{}})")), 0xC0000010U);  // read-only
}

TEST_F(JsonApiTest, SaveConfigWithAndWithoutPath) {
  EXPECT_EQ(StatusOf(Call(R"({"method":"SaveConfig"})")), kSuccess);
  EXPECT_EQ(backend.saved_path, "(config file)");
  EXPECT_EQ(StatusOf(Call(R"({"method":"SaveConfig","Path":"/tmp/x.toml"})")), kSuccess);
  EXPECT_EQ(backend.saved_path, "/tmp/x.toml");
  EXPECT_EQ(StatusOf(Call(R"({"method":"SaveConfig","Path":1})")), kInvalid);
  EXPECT_EQ(backend.save_calls, 2);
}

// ---- properties ---------------------------------------------------------------------------

RC_GTEST_PROP(JsonApiProperty, ArbitraryBytesGetExactlyOneStatusReplyAndChangeNothing,
              (const std::string& text)) {
  FakeBackend backend;
  Populate(backend);
  JsonApi api(backend);
  int replies = 0;
  std::string out;
  api.Handle(text, [&](std::string r) {
    ++replies;
    out = std::move(r);
  });
  RC_ASSERT(replies == 1);
  const json j = json::parse(out, nullptr, false);
  RC_ASSERT(!j.is_discarded());
  RC_ASSERT(j.at("Status").is_number_unsigned());
  RC_ASSERT(j.at("StatusName").is_string());
  RC_ASSERT(backend.execute_calls == 0);
  RC_ASSERT(backend.update_calls == 0);
}

// Mutating one value of a valid set to an arbitrary JSON scalar never crashes
// and never executes unless the result is still a valid set.
RC_GTEST_PROP(JsonApiProperty, AnyScalarInAnyPathFieldGetsOneReply,
              (std::uint8_t field, std::int64_t value, bool as_string)) {
  FakeBackend backend;
  Populate(backend);
  JsonApi api(backend);
  static const char* kFields[] = {
      "DsmPathId",     "Reserved",      "PathWeight", "PrimaryPath",
      "OptimizedPath", "PreferredPath", "FailedPath", "TargetPortGroup_State",
      "SymmetricLUA",  "Reserved64"};
  std::string query_reply;
  api.Handle(json{{"method", "DSM_QueryLBPolicy_V2"}, {"InstanceName", "logs"}}.dump(),
             [&](std::string r) { query_reply = std::move(r); });
  json lbp = json::parse(query_reply)["LoadBalancePolicy"];
  const char* f = kFields[field % 10];
  lbp["DSM_Paths"][0][f] = as_string ? json(std::to_string(value)) : json(value);
  int replies = 0;
  std::string out;
  api.Handle(json{{"method", "DsmSetLoadBalancePolicyALUA"},
                  {"InstanceName", "logs"},
                  {"LoadBalancePolicy", lbp}}
                 .dump(),
             [&](std::string r) {
               ++replies;
               out = std::move(r);
             });
  RC_ASSERT(replies == 1);
  const json j = json::parse(out, nullptr, false);
  RC_ASSERT(!j.is_discarded());
  if (j["Status"] != 0) RC_ASSERT(backend.execute_calls == 0);
  if (value < 0) RC_ASSERT(j["Status"] == kInvalid);
}

}  // namespace
}  // namespace openmpio::mgmt
