// SendTargets discovery (send_targets.h).
#include "transport/iscsi/send_targets.h"

#include <poll.h>

#include <iscsi/iscsi.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>
#include <utility>

namespace openmpio::transport::iscsi {
namespace {

using Ctx = std::unique_ptr<iscsi_context, decltype(&iscsi_destroy_context)>;

std::optional<std::uint32_t> Number(std::string_view s, std::uint32_t max) {
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v > max) return std::nullopt;
  return v;
}

// What the callbacks leave for the poll loop.
struct Progress {
  bool done = false;
  int status = 0;
  std::string error;
  std::vector<DiscoveredTarget> targets;
  std::string unreadable;  // a TargetAddress we could not read
};

void OnStep(iscsi_context* ctx, int status, void* /*data*/, void* p) {
  auto* pr = static_cast<Progress*>(p);
  pr->done = true;
  pr->status = status;
  if (status != 0) pr->error = iscsi_get_error(ctx);
}

void OnDiscovery(iscsi_context* ctx, int status, void* data, void* p) {
  OnStep(ctx, status, data, p);
  auto* pr = static_cast<Progress*>(p);
  if (status != 0) return;
  // Valid only during this callback: copied out.
  for (auto* a = static_cast<iscsi_discovery_address*>(data); a != nullptr; a = a->next) {
    DiscoveredTarget t;
    t.name = a->target_name != nullptr ? a->target_name : "";
    for (iscsi_target_portal* tp = a->portals; tp != nullptr; tp = tp->next) {
      const std::string_view text = tp->portal != nullptr ? tp->portal : "";
      if (auto parsed = ParseTargetAddress(text)) {
        t.portals.push_back(*parsed);
      } else if (pr->unreadable.empty()) {
        pr->unreadable = std::string(text);
      }
    }
    pr->targets.push_back(std::move(t));
  }
}

// Drives the context until the step's callback ran or the deadline passed.
bool RunUntilDone(iscsi_context* ctx, Progress& pr, TimePoint deadline, std::string* why) {
  while (!pr.done) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      *why = "no answer in time";
      return false;
    }
    pollfd pfd{iscsi_get_fd(ctx), static_cast<short>(iscsi_which_events(ctx)), 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 250)));
    if (n < 0 && errno != EINTR) {
      *why = "poll failed";
      return false;
    }
    if (iscsi_service(ctx, n > 0 ? pfd.revents : 0) < 0) {
      *why = iscsi_get_error(ctx);
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<TargetPortal> ParseTargetAddress(std::string_view text) {
  TargetPortal out;
  const auto comma = text.rfind(',');
  std::string_view addr = text;
  if (comma != std::string_view::npos && text.find(']', comma) == std::string_view::npos) {
    const auto tag = Number(text.substr(comma + 1), 65535);
    if (!tag) return std::nullopt;
    out.portal_group_tag = static_cast<std::uint16_t>(*tag);
    addr = text.substr(0, comma);
  }
  std::string_view host = addr;
  std::uint32_t port = 3260;
  if (!addr.empty() && addr.front() == '[') {
    const auto close = addr.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = addr.substr(0, close + 1);
    const std::string_view rest = addr.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      const auto p = Number(rest.substr(1), 65535);
      if (!p || *p == 0) return std::nullopt;
      port = *p;
    }
  } else if (const auto colon = addr.rfind(':'); colon != std::string_view::npos) {
    if (addr.find(':') != colon) return std::nullopt;  // a bare IPv6 address is ambiguous
    host = addr.substr(0, colon);
    const auto p = Number(addr.substr(colon + 1), 65535);
    if (!p || *p == 0) return std::nullopt;
    port = *p;
  }
  if (host.empty() || host == "[]") return std::nullopt;
  out.portal = std::string(host) + ":" + std::to_string(port);
  return out;
}

Expected<std::vector<DiscoveredTarget>> SendTargets(const SendTargetsRequest& request) {
  const TimePoint deadline = Clock::now() + request.deadline;
  const std::string where = "SendTargets at " + request.portal;
  Ctx ctx(iscsi_create_context(request.initiator_name.c_str()), &iscsi_destroy_context);
  if (!ctx) {
    return MakeUnexpected(Status(
        NtStatus::kInsufficientResources,
        where + ": iscsi_create_context failed for initiator '" + request.initiator_name + "'"));
  }
  iscsi_set_noautoreconnect(ctx.get(), 1);
  iscsi_set_session_type(ctx.get(), ISCSI_SESSION_DISCOVERY);
  if (!request.chap_username.empty() &&
      iscsi_set_initiator_username_pwd(ctx.get(), request.chap_username.c_str(),
                                       request.chap_secret.c_str()) != 0) {
    return MakeUnexpected(InvalidParameter(where + ": CHAP user '" + request.chap_username +
                                           "' refused by libiscsi"));
  }
  Progress pr;
  std::string why;
  auto fail = [&](const std::string& step) {
    const bool late = why == "no answer in time";
    return MakeUnexpected(Status(late ? NtStatus::kIoTimeout : NtStatus::kDeviceNotReady,
                                 where + ": " + step + ": " + (why.empty() ? pr.error : why)));
  };
  if (iscsi_connect_async(ctx.get(), request.portal.c_str(), &OnStep, &pr) != 0) {
    why = iscsi_get_error(ctx.get());
    return fail("connect");
  }
  if (!RunUntilDone(ctx.get(), pr, deadline, &why) || pr.status != 0) return fail("connect");
  pr = Progress{};
  if (iscsi_login_async(ctx.get(), &OnStep, &pr) != 0) {
    why = iscsi_get_error(ctx.get());
    return fail("login");
  }
  if (!RunUntilDone(ctx.get(), pr, deadline, &why) || pr.status != 0) return fail("login");
  pr = Progress{};
  if (iscsi_discovery_async(ctx.get(), &OnDiscovery, &pr) != 0) {
    why = iscsi_get_error(ctx.get());
    return fail("SendTargets");
  }
  if (!RunUntilDone(ctx.get(), pr, deadline, &why) || pr.status != 0) return fail("SendTargets");
  if (!pr.unreadable.empty()) {
    return MakeUnexpected(
        InvalidParameter(where + ": TargetAddress '" + pr.unreadable + "' cannot be read"));
  }
  std::vector<DiscoveredTarget> targets = std::move(pr.targets);
  // A polite end; the answer is ours whether or not the logout is answered.
  pr = Progress{};
  if (iscsi_logout_async(ctx.get(), &OnStep, &pr) == 0) {
    RunUntilDone(ctx.get(), pr, std::min(deadline, Clock::now() + std::chrono::seconds(1)), &why);
  }
  return targets;
}

}  // namespace openmpio::transport::iscsi
