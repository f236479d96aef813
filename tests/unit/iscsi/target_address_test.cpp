// TargetAddress values of a SendTargets answer (RFC 7143 13.8:
// "domainname[:port][,portal-group-tag]", an IPv6 address in brackets as in
// RFC 7143 appendix C's examples), read into a portal IscsiNexus connects to.
#include <gtest/gtest.h>

#include "transport/iscsi/send_targets.h"

namespace openmpio::transport::iscsi {
namespace {

TEST(TargetAddress, HostPortAndTag) {
  EXPECT_EQ(ParseTargetAddress("10.1.0.45:5300,1"), (TargetPortal{"10.1.0.45:5300", 1}));
  EXPECT_EQ(ParseTargetAddress("127.0.0.1:3263,2"), (TargetPortal{"127.0.0.1:3263", 2}));
  EXPECT_EQ(ParseTargetAddress("[2001:db8::1]:3260,65535"),
            (TargetPortal{"[2001:db8::1]:3260", 65535}));
  EXPECT_EQ(ParseTargetAddress("array.example.com,7"), (TargetPortal{"array.example.com:3260", 7}));
  EXPECT_EQ(ParseTargetAddress("[2001:db8::1]"), (TargetPortal{"[2001:db8::1]:3260", 0}));
  EXPECT_EQ(ParseTargetAddress("10.1.0.45"), (TargetPortal{"10.1.0.45:3260", 0}));
}

TEST(TargetAddress, WhatCannotBeReadIsRefused) {
  for (const char* bad : {"", ",1", "10.1.0.45:,1", "10.1.0.45:0,1", "10.1.0.45:65536,1",
                          "10.1.0.45:3260,65536", "10.1.0.45:3260,x", "2001:db8::1,1",
                          "[2001:db8::1,1", "[2001:db8::1]3260,1", "[]:3260,1", "h:32a0,1"}) {
    EXPECT_FALSE(ParseTargetAddress(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace openmpio::transport::iscsi
