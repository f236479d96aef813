// scsi-capture: send ONE hand-written CDB to an iSCSI LUN and write the raw
// data-in bytes to a file. It exists to produce the committed captures in
// tests/data/captures/ independently of openmpio's own CDB builders, so the
// parsers are checked against bytes a real target chose.
//
//   scsi-capture iscsi://127.0.0.1:3262/iqn.2024-01.test:disk1/0
//       --cdb "12 01 83 10 00 00" --alloc 4096 --out FILE
//
// Exit codes: 0 GOOD (FILE holds the data-in, possibly empty);
//             2 CHECK CONDITION (FILE.sense holds the raw sense bytes, possibly
//               empty; FILE is not written);
//             3 another SCSI status (BUSY, RESERVATION CONFLICT, ...);
//             1 usage, connect, login or transport error;
//             4 the deadline passed.
// A UNIT ATTENTION answer is re-sent (--ua-retries, default 3); the first
// UA's sense bytes go to FILE.ua.
//
// Login deliberately avoids iscsi_full_connect_sync: it sends TEST UNIT READY
// and fails the login on NOT READY (LAB.md), which would hide exactly the
// answers a standby port gives. A client only: it binds nothing.
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include "common/hex.h"

namespace {

constexpr int kExitGood = 0;
constexpr int kExitError = 1;
constexpr int kExitCheckCondition = 2;
constexpr int kExitOtherStatus = 3;
constexpr int kExitDeadline = 4;

// iscsi_set_timeout covers commands only, and libiscsi checks it only inside
// its service loop; connect and login to a blackholed portal can take ~2 min
// (LAB.md). One process-wide alarm bounds all of it.
extern "C" void OnDeadline(int /*signo*/) {
  static constexpr char kMsg[] = "scsi-capture: deadline passed\n";
  // write() and _exit() are async-signal-safe; stdio is not.
  [[maybe_unused]] const ssize_t n = write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
  _exit(kExitDeadline);
}

void Usage() {
  std::fprintf(stderr,
               "usage: scsi-capture iscsi://HOST[:PORT]/TARGET-IQN/LUN --cdb \"HEX BYTES\"\n"
               "                    [--alloc N] [--out FILE] [--timeout SECONDS]\n"
               "                    [--initiator IQN] [--ua-retries N]\n"
               "  Sends one data-in (or no-data when --alloc 0) CDB and writes the raw\n"
               "  data-in to FILE; on CHECK CONDITION writes the sense to FILE.sense.\n"
               "  UNIT ATTENTION is re-sent up to N times (default 3); the first UA's\n"
               "  sense goes to FILE.ua.\n");
}

// "12 01 83 10 00 00" or "120183100000" (common/hex.h).
bool ParseHex(std::string_view s, std::vector<unsigned char>& out) {
  const auto bytes = openmpio::ParseHexBytes(s);
  if (!bytes) return false;
  for (const std::byte b : *bytes) out.push_back(std::to_integer<unsigned char>(b));
  return true;
}

bool ParseUnsigned(const char* s, unsigned long max, unsigned long& out) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(s, &end, 0);
  if (end == s || *end != '\0' || v > max) return false;
  out = v;
  return true;
}

bool WriteFile(const std::string& path, const unsigned char* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "scsi-capture: cannot open %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  const std::size_t written = size == 0 ? 0 : std::fwrite(data, 1, size, f);
  const bool ok = written == size && std::fclose(f) == 0;
  if (!ok) std::fprintf(stderr, "scsi-capture: short write to %s\n", path.c_str());
  return ok;
}

struct Options {
  std::string url;
  std::vector<unsigned char> cdb;
  unsigned long alloc = 4096;
  std::string out;
  unsigned long timeout_s = 10;
  unsigned long ua_retries = 3;
  std::string initiator = "iqn.2024-01.test:openmpio-scsi-capture";
};

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--cdb" && has_value) {
      if (!ParseHex(argv[++i], o.cdb)) return false;
    } else if (a == "--alloc" && has_value) {
      if (!ParseUnsigned(argv[++i], 16u * 1024u * 1024u, o.alloc)) return false;
    } else if (a == "--out" && has_value) {
      o.out = argv[++i];
    } else if (a == "--timeout" && has_value) {
      if (!ParseUnsigned(argv[++i], 3600, o.timeout_s) || o.timeout_s == 0) return false;
    } else if (a == "--ua-retries" && has_value) {
      if (!ParseUnsigned(argv[++i], 16, o.ua_retries)) return false;
    } else if (a == "--initiator" && has_value) {
      o.initiator = argv[++i];
    } else if (!a.empty() && a[0] != '-' && o.url.empty()) {
      o.url = std::string(a);
    } else {
      return false;
    }
  }
  // A CDB is 6..16 bytes (SPC-4 4.2.5); libiscsi holds at most 16.
  return !o.url.empty() && o.cdb.size() >= 6 && o.cdb.size() <= SCSI_CDB_MAX_SIZE;
}

// On CHECK CONDITION libiscsi leaves the iSCSI SCSI Response data segment in
// datain: a 2-byte SenseLength, then the sense data (RFC 7143 11.4.7.2).
// Return the sense bytes only, bounded by both the field and the segment.
std::vector<unsigned char> SenseBytes(const scsi_task& task) {
  std::vector<unsigned char> sense;
  if (task.datain.data == nullptr || task.datain.size < 2) return sense;
  const auto seg = static_cast<std::size_t>(task.datain.size);
  const std::size_t claimed =
      (static_cast<std::size_t>(task.datain.data[0]) << 8) | task.datain.data[1];
  const std::size_t n = claimed < seg - 2 ? claimed : seg - 2;
  sense.assign(task.datain.data + 2, task.datain.data + 2 + n);
  return sense;
}

int Run(const Options& o) {
  iscsi_context* iscsi = iscsi_create_context(o.initiator.c_str());
  if (iscsi == nullptr) {
    std::fprintf(stderr, "scsi-capture: iscsi_create_context failed\n");
    return kExitError;
  }
  int rc = kExitError;
  iscsi_url* url = iscsi_parse_full_url(iscsi, o.url.c_str());
  scsi_task* task = nullptr;
  bool logged_in = false;
  do {
    if (url == nullptr) {
      std::fprintf(stderr, "scsi-capture: bad URL %s: %s\n", o.url.c_str(),
                   iscsi_get_error(iscsi));
      break;
    }
    // A dead path must fail at once rather than wait for a reconnect.
    iscsi_set_noautoreconnect(iscsi, 1);
    iscsi_set_timeout(iscsi, static_cast<int>(o.timeout_s));
    iscsi_set_tcp_syncnt(iscsi, 2);
    if (iscsi_set_targetname(iscsi, url->target) != 0 ||
        iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL) != 0 ||
        iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE) != 0) {
      std::fprintf(stderr, "scsi-capture: setup: %s\n", iscsi_get_error(iscsi));
      break;
    }
    if (iscsi_connect_sync(iscsi, url->portal) != 0) {
      std::fprintf(stderr, "scsi-capture: connect %s: %s\n", url->portal,
                   iscsi_get_error(iscsi));
      break;
    }
    if (iscsi_login_sync(iscsi) != 0) {
      std::fprintf(stderr, "scsi-capture: login %s: %s\n", url->target, iscsi_get_error(iscsi));
      break;
    }
    logged_in = true;

    // A fresh I_T nexus usually gets UNIT ATTENTION 29/00 (power on or
    // reset, SPC-4 5.14) on its first command other than INQUIRY/REPORT
    // LUNS, and every capture is a fresh nexus. Keep the first such sense in
    // FILE.ua (a real capture in its own right) and re-send the command.
    std::vector<unsigned char> cdb = o.cdb;
    const int dir = o.alloc == 0 ? SCSI_XFER_NONE : SCSI_XFER_READ;
    bool ua_saved = false;
    bool failed = false;
    for (unsigned long attempt = 0;; ++attempt) {
      task = scsi_create_task(static_cast<int>(cdb.size()), cdb.data(), dir,
                              static_cast<int>(o.alloc));
      if (task == nullptr) {
        std::fprintf(stderr, "scsi-capture: scsi_create_task failed\n");
        failed = true;
        break;
      }
      if (iscsi_scsi_command_sync(iscsi, url->lun, task, nullptr) == nullptr) {
        std::fprintf(stderr, "scsi-capture: command failed: %s\n", iscsi_get_error(iscsi));
        // Whether libiscsi still references the task after a failed sync
        // call is not documented; leak it (the process is about to exit)
        // rather than risk a double free.
        task = nullptr;
        failed = true;
        break;
      }
      const bool unit_attention = task->status == SCSI_STATUS_CHECK_CONDITION &&
                                  task->sense.key == SCSI_SENSE_UNIT_ATTENTION;
      if (!unit_attention || attempt >= o.ua_retries) break;
      const std::vector<unsigned char> ua = SenseBytes(*task);
      std::fprintf(stderr, "scsi-capture: UNIT ATTENTION %02x/%02x, re-sending\n",
                   static_cast<unsigned>(task->sense.ascq >> 8),
                   static_cast<unsigned>(task->sense.ascq & 0xff));
      if (!ua_saved && !o.out.empty() && !WriteFile(o.out + ".ua", ua.data(), ua.size())) {
        failed = true;
        break;
      }
      ua_saved = true;
      scsi_free_scsi_task(task);
      task = nullptr;
    }
    if (failed) break;
    if (task->status == SCSI_STATUS_GOOD) {
      const auto size = task->datain.size > 0 ? static_cast<std::size_t>(task->datain.size) : 0u;
      std::fprintf(stderr, "scsi-capture: GOOD, %zu bytes of data-in\n", size);
      if (!o.out.empty() && !WriteFile(o.out, task->datain.data, size)) break;
      rc = kExitGood;
    } else if (task->status == SCSI_STATUS_CHECK_CONDITION) {
      const std::vector<unsigned char> sense = SenseBytes(*task);
      std::fprintf(stderr, "scsi-capture: CHECK CONDITION, %zu bytes of sense (%s)\n",
                   sense.size(), iscsi_get_error(iscsi));
      if (!o.out.empty() && !WriteFile(o.out + ".sense", sense.data(), sense.size())) break;
      rc = kExitCheckCondition;
    } else if (task->status == SCSI_STATUS_TIMEOUT) {
      std::fprintf(stderr, "scsi-capture: command timed out\n");
      rc = kExitDeadline;
    } else if (task->status >= 0 && task->status < 0x100) {
      std::fprintf(stderr, "scsi-capture: SCSI status 0x%02x\n",
                   static_cast<unsigned>(task->status));
      rc = kExitOtherStatus;
    } else {
      std::fprintf(stderr, "scsi-capture: transport status 0x%x: %s\n",
                   static_cast<unsigned>(task->status), iscsi_get_error(iscsi));
    }
  } while (false);

  if (task != nullptr) scsi_free_scsi_task(task);
  if (logged_in) iscsi_logout_sync(iscsi);
  if (url != nullptr) iscsi_destroy_url(url);
  iscsi_destroy_context(iscsi);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    Usage();
    return kExitError;
  }
  std::signal(SIGALRM, OnDeadline);
  alarm(static_cast<unsigned>(o.timeout_s));
  return Run(o);
}
