// nbdkit-openmpio-plugin.so: every multipath disk of an openmpio engine as an
// NBD export (DESIGN.md "Processes").
//
//   nbdkit build/…/nbdkit-openmpio-plugin.so config=FILE   (or demo=1: the embedded demo)
//
// Built on the library API alone (include/openmpio/openmpio.h): what this
// plugin needs of the engine, any front end may need.
//
// Lifecycle (nbdkit-plugin(3)): .config / .config_complete parse the file
// and run every check the engine's start would make (Configuration::Check)
// before nbdkit forks, so a config the engine cannot serve fails in the
// foreground: the message on stderr, a non-zero exit, no socket served. The
// engine's threads start in .after_fork (threads do not survive fork) and
// the engine stops in .unload, which nbdkit calls after every connection
// closed, so no request of ours is outstanding then.
//
// What can still fail in .after_fork (threads, the management socket,
// discovery, [[disk]] settings the method refuses) is reported with
// nbdkit_error, which a daemonized nbdkit sends to syslog (nbdkit 1.32
// server/log.c: stderr before the fork, syslog after it, unless --log says
// otherwise); nbdkit then exits 1 (server/plugins.c, plugin_after_fork). As a
// daemon its parent would have exited 0 already (server/background.c: the
// parent exit()s right after fork, before .after_fork runs) and left its -U
// socket and --pidfile behind. So the parent waits: a pipe made in
// .config_complete carries the child's verdict, and an atexit handler in the
// parent (exit() runs it) reads it and exits 1 unless the engine started —
// the readiness hand-off of forking daemons. In the foreground there is no
// fork and the handler stands down. The engine also opens the management
// socket of [management] (mode 0600) in .after_fork, for mpioctl;
// `mpioctl config save` writes back to config=FILE.
//
// Data calls: nbdkit calls are synchronous; each one is the Disk's
// synchronous call, which issues the engine's asynchronous request and waits
// for it on the caller's stack without allocating. The engine takes no
// global lock on the data path, so PARALLEL is the model. Errors:
// nbdkit_error with the Status text, nbdkit_set_error with openmpio::ErrnoOf
// (the one table), then -1.
#define NBDKIT_API_VERSION 2
#include <fcntl.h>
#include <nbdkit-plugin.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "openmpio/openmpio.h"
#include "write_order.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

namespace {

using openmpio::IoFlags;
using openmpio::Status;

struct Export {
  std::string name;         // alias or designator
  std::string description;  // vendor, product, designator, paths
  std::string designator;   // the LU's identity: one export per disk
  openmpio::Disk disk;
  std::uint64_t size = 0;
  std::uint32_t block_size = 512;
  std::uint64_t max_transfer_bytes = 0;
  std::uint32_t preferred_bytes = 512;  // physical block, or the optimal transfer
  bool can_trim = false;                // LBPME and LBPU (UNMAP)
  bool can_unmap_zero = false;          // LBPME and LBPWS (WRITE SAME with UNMAP)
  // Partial-block read-modify-writes against the export's other writes.
  std::unique_ptr<openmpio::nbd::WriteOrder> order = std::make_unique<openmpio::nbd::WriteOrder>();
};

struct Plugin {
  std::string config_path;
  bool demo = false;
  // Engine tuning from the command line (openmpio::EngineOptions; unset:
  // its defaults).
  std::optional<std::uint32_t> reactors, reactor_spin_us, wait_spin_us;
  std::optional<openmpio::Configuration> config;
  std::unique_ptr<openmpio::MultipathEngine> engine;
  // One per ready disk, in the engine's order; a disk the engine finds later
  // (a LU added to the target: 3F/0E) is added at the next list or open.
  // Never removed (a removed LU's disk stays and fails its I/O), so a name
  // handed to nbdkit stays valid.
  std::mutex exports_mutex;
  std::vector<std::shared_ptr<Export>> exports;
};
Plugin g;

// A connection holds its export.
struct Connection {
  std::shared_ptr<Export> e;
};

int Fail(const Status& s, const char* what) {
  int err = openmpio::ErrnoOf(s);
  if (err == 0) err = EIO;
  nbdkit_error("openmpio: %s: %s", what, s.ToString().c_str());
  nbdkit_set_error(err);
  return -1;
}

Export& Of(void* handle) {
  return *static_cast<Connection*>(handle)->e;
}

// ---- configuration ---------------------------------------------------------------

int Config(const char* key, const char* value) {
  if (std::strcmp(key, "config") == 0) {
    // Absolute now: a daemon's working folder becomes / after the fork, and
    // `mpioctl config save` writes this path back (nbdkit_realpath also
    // says at once when the file does not exist).
    char* real = nbdkit_realpath(value);
    if (real == nullptr) return -1;
    g.config_path = real;
    std::free(real);
    return 0;
  }
  if (std::strcmp(key, "demo") == 0) {
    const int b = nbdkit_parse_bool(value);
    if (b == -1) return -1;
    g.demo = b != 0;
    return 0;
  }
  // Tuning: a number in a range, or a clear refusal.
  struct Tunable {
    const char* key;
    std::optional<std::uint32_t>* into;
    std::uint32_t min, max;
  };
  const Tunable tunables[] = {{"reactors", &g.reactors, 1, 64},
                              {"reactor-spin-us", &g.reactor_spin_us, 0, 10'000},
                              {"wait-spin-us", &g.wait_spin_us, 0, 10'000}};
  for (const Tunable& t : tunables) {
    if (std::strcmp(key, t.key) != 0) continue;
    std::uint32_t v = 0;
    if (nbdkit_parse_uint32_t(key, value, &v) == -1) return -1;
    if (v < t.min || v > t.max) {
      nbdkit_error("openmpio: %s=%s: out of range %u..%u", key, value, t.min, t.max);
      return -1;
    }
    *t.into = v;
    return 0;
  }
  nbdkit_error(
      "openmpio: unknown parameter '%s' (config=FILE, demo=1, reactors=N, "
      "reactor-spin-us=N, wait-spin-us=N)",
      key);
  return -1;
}

// ---- the daemon's start-up verdict (see the top of the file) -------------------

struct StartupVerdict {
  int read_fd = -1;
  int write_fd = -1;
  pid_t pid = 0;            // the process that made the pipe: nbdkit before the fork
  bool stand_down = false;  // no fork happened (foreground): nobody waits
};
StartupVerdict verdict;

// atexit, in every process that exits: only nbdkit's parent after the fork
// (same pid, not stood down) waits for the child's byte; EOF means the child
// died first.
void WaitForStartupVerdict() {
  if (::getpid() != verdict.pid || verdict.stand_down || verdict.read_fd < 0) return;
  if (verdict.write_fd >= 0) ::close(verdict.write_fd);
  char ok = 0;
  ssize_t n = 0;
  do {
    n = ::read(verdict.read_fd, &ok, 1);
  } while (n < 0 && errno == EINTR);
  if (n == 1 && ok == 1) return;
  std::fputs("nbdkit: openmpio: the engine did not start (its reason is in syslog)\n", stderr);
  ::_exit(EXIT_FAILURE);
}

void OpenStartupVerdict() {
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) != 0) return;  // no pipe: the parent does not wait
  verdict.read_fd = fds[0];
  verdict.write_fd = fds[1];
  verdict.pid = ::getpid();
  std::atexit(WaitForStartupVerdict);
}

// .after_fork, before the engine starts: the foreground stands down.
void TakeStartupVerdict() {
  if (::getpid() == verdict.pid) {
    verdict.stand_down = true;
    return;
  }
  if (verdict.read_fd >= 0) ::close(verdict.read_fd);
  verdict.read_fd = -1;
}

void SendStartupVerdict(bool started) {
  if (verdict.write_fd < 0 || verdict.stand_down) return;
  const char ok = started ? 1 : 0;
  [[maybe_unused]] const ssize_t n = ::write(verdict.write_fd, &ok, 1);
  ::close(verdict.write_fd);
  verdict.write_fd = -1;
}

int ConfigComplete() {
  if (!g.config_path.empty() && g.demo) {
    nbdkit_error("openmpio: give config=FILE or demo=1, not both");
    return -1;
  }
  if (g.config_path.empty()) {
    g.config = openmpio::Configuration::Demo();
  } else {
    auto loaded = openmpio::Configuration::Load(g.config_path);
    if (!loaded) {
      nbdkit_error("openmpio: %s", loaded.error().ToString().c_str());
      return -1;
    }
    g.config = std::move(*loaded);
  }
  // Before the fork: what MultipathEngine::Create would refuse after it.
  if (Status s = g.config->Check(); !s.ok()) {
    nbdkit_error("openmpio: %s: %s", g.config_path.empty() ? "demo" : g.config_path.c_str(),
                 s.ToString().c_str());
    return -1;
  }
  OpenStartupVerdict();
  return 0;
}

// The export of one ready disk: geometry and capabilities from discovery.
// nullptr when the disk cannot be opened (it went away meanwhile).
std::shared_ptr<Export> MakeExport(const openmpio::DiskDescription& d) {
  auto disk = g.engine->OpenDisk(d.name);
  if (!disk) {
    nbdkit_debug("openmpio: disk %s: %s", d.name.c_str(), disk.error().ToString().c_str());
    return nullptr;
  }
  auto e = std::make_shared<Export>();
  e->name = d.name;
  e->designator = d.designator;
  e->disk = std::move(*disk);
  e->size = d.size_bytes;
  e->block_size = d.block_size;
  e->max_transfer_bytes = d.max_transfer_bytes;
  // Preferred: the physical block, raised to the optimal transfer length
  // when the LU reports one that fits nbdkit's 32 MiB limit on preferred
  // sizes.
  const std::uint64_t physical = d.physical_block_bytes;
  const std::uint64_t optimal = d.optimal_transfer_bytes;
  std::uint64_t preferred = std::max<std::uint64_t>({physical, 512, d.block_size});
  if (optimal > preferred && optimal <= (32U << 20) && optimal % preferred == 0)
    preferred = optimal;
  e->preferred_bytes = static_cast<std::uint32_t>(preferred);
  e->can_trim = d.can_trim;
  e->can_unmap_zero = d.can_zero_unmap;
  e->description = d.vendor + " " + d.product + " " + d.designator + " (" +
                   std::to_string(d.paths.size()) + " paths)";
  nbdkit_debug("openmpio: export %s: %s, %llu bytes", e->name.c_str(), e->description.c_str(),
               static_cast<unsigned long long>(e->size));
  return e;
}

// Adds an export for every ready disk that has none yet.
void RefreshExports() {
  if (!g.engine) return;
  const std::vector<openmpio::DiskDescription> disks = g.engine->Disks();
  std::lock_guard<std::mutex> lock(g.exports_mutex);
  for (const openmpio::DiskDescription& d : disks) {
    const bool known = std::any_of(g.exports.begin(), g.exports.end(),
                                   [&d](const auto& e) { return e->designator == d.designator; });
    if (known) continue;
    if (!d.ready) {
      nbdkit_debug("openmpio: disk %s not ready: not exported yet", d.name.c_str());
      continue;
    }
    if (auto e = MakeExport(d)) g.exports.push_back(std::move(e));
  }
}

int AfterFork() {
  TakeStartupVerdict();
  openmpio::EngineOptions options;
  if (g.reactors) options.reactor_threads = *g.reactors;
  if (g.reactor_spin_us) options.reactor_spin_us = *g.reactor_spin_us;
  if (g.wait_spin_us) options.wait_spin_us = *g.wait_spin_us;
  // config=FILE is absolute (Config): `mpioctl config save` writes it back.
  auto started = openmpio::MultipathEngine::Create(*g.config, options);
  if (!started) {
    // After the fork: syslog when nbdkit is a daemon (see the top of the file).
    nbdkit_error("openmpio: starting the engine: %s", started.error().ToString().c_str());
    SendStartupVerdict(false);
    return -1;
  }
  g.engine = std::move(*started);
  nbdkit_debug("openmpio: %zu reactor thread(s), reactor spin %u us, caller spin %u us",
               g.engine->reactor_threads(), options.reactor_spin_us, options.wait_spin_us);
  RefreshExports();
  SendStartupVerdict(true);
  return 0;
}

void Unload() {
  g.exports.clear();
  if (g.engine) {
    // With -v, what happened to the paths (a failure, a fence), for the
    // operator and for the tests that cut paths under a client.
    for (const openmpio::EngineEvent& e : g.engine->Events()) {
      nbdkit_debug("openmpio: event: %s%s%s", e.disk.c_str(), e.disk.empty() ? "" : ": ",
                   e.text.c_str());
    }
    g.engine->Stop();
  }
  g.engine.reset();
}

// ---- exports and connections ---------------------------------------------------------

int ListExports(int /*readonly*/, int /*is_tls*/, struct nbdkit_exports* exports) {
  RefreshExports();
  std::lock_guard<std::mutex> lock(g.exports_mutex);
  for (const auto& e : g.exports) {
    if (nbdkit_add_export(exports, e->name.c_str(), e->description.c_str()) == -1) return -1;
  }
  return 0;
}

const char* DefaultExport(int /*readonly*/, int /*is_tls*/) {
  RefreshExports();
  std::lock_guard<std::mutex> lock(g.exports_mutex);
  if (g.exports.empty()) {
    nbdkit_error("openmpio: the engine serves no disk");
    return nullptr;
  }
  return g.exports.front()->name.c_str();  // exports are never removed
}

void* Open(int /*readonly*/) {
  RefreshExports();
  const char* wanted = nbdkit_export_name();
  std::string name = wanted ? wanted : "";
  std::lock_guard<std::mutex> lock(g.exports_mutex);
  if (g.exports.empty()) {
    nbdkit_error("openmpio: the engine serves no disk");
    return nullptr;
  }
  if (name.empty()) name = g.exports.front()->name;
  for (const auto& e : g.exports) {
    if (e->name == name) return new Connection{e};
  }
  nbdkit_error("openmpio: no export named '%s'", name.c_str());
  nbdkit_set_error(ENOENT);
  return nullptr;
}

void Close(void* handle) {
  delete static_cast<Connection*>(handle);
}

const char* ExportDescription(void* handle) {
  return Of(handle).description.c_str();
}

// Live: a LU the target resized (2A/09) is seen at its new size by the next
// connection.
int64_t GetSize(void* handle) {
  const Export& e = Of(handle);
  const std::uint64_t now = e.disk.size_bytes();
  return static_cast<int64_t>(now != 0 ? now : e.size);
}

// minimum: the logical block size (smaller requests need read-modify-write);
// preferred: the physical block or the optimal transfer length; maximum: the
// LU's maximum transfer length (VPD 0xB0), which the engine would split anyway.
int BlockSize(void* handle, uint32_t* minimum, uint32_t* preferred, uint32_t* maximum) {
  const Export& e = Of(handle);
  *minimum = e.block_size;
  *preferred = e.preferred_bytes;
  std::uint64_t max = e.max_transfer_bytes;
  if (max == 0 || max > 0xFFFFFFFFULL) {
    *maximum = 0xFFFFFFFFU;
  } else {
    *maximum = static_cast<std::uint32_t>(std::max<std::uint64_t>(max, *preferred));
  }
  return 0;
}

int CanWrite(void*) {
  return 1;
}
int CanFlush(void*) {
  return 1;
}
int IsRotational(void*) {
  return 0;
}
// FUA: the engine sets FUA in WRITE(16) where the LU reports DPOFUA, and
// otherwise writes then synchronizes the cache itself — native either way.
int CanFua(void*) {
  return NBDKIT_FUA_NATIVE;
}
// Trim only where the LU provisions thinly and accepts UNMAP (LBPME, LBPU).
int CanTrim(void* handle) {
  return Of(handle).can_trim ? 1 : 0;
}
// WRITE SAME(16) zeroes on any direct-access LU; MAY_TRIM is honoured only
// where WRITE SAME may unmap (LBPWS).
int CanZero(void*) {
  return 1;
}
// nbdkit's meaning: a zero with NBDKIT_FLAG_FAST_ZERO that would not be
// faster than writing zeroes fails at once with ENOTSUP (Zero below). Whole
// blocks go to the target as one WRITE SAME (no data crosses the paths);
// partial blocks would need a read-modify-write, which is the slow case.
int CanFastZero(void*) {
  return 1;
}
// Every connection goes through the one engine in this process to the same
// LU: a flush on any connection is a SYNCHRONIZE CACHE of the LU, which
// covers every write completed before it, whichever connection sent it.
int CanMultiConn(void*) {
  return 1;
}

// ---- data ----------------------------------------------------------------------------

int Pread(void* handle, void* buf, uint32_t count, uint64_t offset, uint32_t /*flags*/) {
  Export& e = Of(handle);
  auto* out = static_cast<std::byte*>(buf);
  const std::uint64_t bs = e.block_size;
  if (offset % bs == 0 && count % bs == 0) {
    Status s = e.disk.Read(offset, std::span<std::byte>(out, count));
    return s.ok() ? 0 : Fail(s, "read");
  }
  const std::uint64_t first = offset / bs * bs;
  const std::uint64_t end = (offset + count + bs - 1) / bs * bs;
  std::vector<std::byte> bounce(end - first);
  Status s = e.disk.Read(first, bounce);
  if (!s.ok()) return Fail(s, "read");
  std::memcpy(out, bounce.data() + (offset - first), count);
  return 0;
}

// Partial blocks: read the covering blocks, patch, write back. No write of
// those blocks may land in between (write_order.h): two partial writes to
// one block, or an aligned write racing the patch, would be partly undone.
// The plugin does this itself because a plugin cannot impose nbdkit's
// blocksize filter on the users who start it.
Status ReadModifyWrite(Export& e, std::uint64_t offset, const std::byte* data,
                       std::uint64_t count) {
  const std::uint64_t bs = e.block_size;
  const std::uint64_t first = offset / bs * bs;
  const std::uint64_t end = (offset + count + bs - 1) / bs * bs;
  std::vector<std::byte> block(end - first);
  const openmpio::nbd::WriteOrder::Rmw rmw(*e.order, {first, end});
  Status s = e.disk.Read(first, block);
  if (!s.ok()) return s;
  if (data) {
    std::memcpy(block.data() + (offset - first), data, count);
  } else {
    std::memset(block.data() + (offset - first), 0, count);
  }
  return e.disk.Write(first, block);
}

int Pwrite(void* handle, const void* buf, uint32_t count, uint64_t offset, uint32_t flags) {
  Export& e = Of(handle);
  const auto* in = static_cast<const std::byte*>(buf);
  const bool fua = (flags & NBDKIT_FLAG_FUA) != 0;
  if (offset % e.block_size == 0 && count % e.block_size == 0) {
    Status s;
    {
      const openmpio::nbd::WriteOrder::Write w(*e.order, {offset, offset + count});
      s = e.disk.Write(offset, std::span<const std::byte>(in, count),
                       fua ? IoFlags::kFua : IoFlags::kNone);
    }
    return s.ok() ? 0 : Fail(s, "write");
  }
  Status s = ReadModifyWrite(e, offset, in, count);
  if (s.ok() && fua) s = e.disk.Flush();
  return s.ok() ? 0 : Fail(s, "write");
}

int Flush(void* handle, uint32_t /*flags*/) {
  Status s = Of(handle).disk.Flush();
  return s.ok() ? 0 : Fail(s, "flush");
}

// Trim is advisory (NBD protocol): only the whole blocks inside the range.
// With FUA advertised as native, nbdkit passes NBDKIT_FLAG_FUA to trim and
// zero too: they finish with a cache flush then.
int FlushIfFua(Export& e, uint32_t flags, const char* what) {
  if ((flags & NBDKIT_FLAG_FUA) == 0) return 0;
  Status s = e.disk.Flush();
  return s.ok() ? 0 : Fail(s, what);
}

int Trim(void* handle, uint32_t count, uint64_t offset, uint32_t flags) {
  Export& e = Of(handle);
  const std::uint64_t bs = e.block_size;
  const std::uint64_t first = (offset + bs - 1) / bs * bs;
  const std::uint64_t end = (offset + count) / bs * bs;
  if (end <= first) return FlushIfFua(e, flags, "trim");
  Status s;
  {
    const openmpio::nbd::WriteOrder::Write w(*e.order, {first, end});
    s = e.disk.Trim(first, end - first);
  }
  return s.ok() ? FlushIfFua(e, flags, "trim") : Fail(s, "trim");
}

// Whole blocks by WRITE SAME (with UNMAP when the client allows it and the
// LU supports it); partial edge blocks by read-modify-write — unless the
// client asked for a fast zero, which then fails at once with ENOTSUP
// (CanFastZero): the client writes the zeroes itself or does without.
int Zero(void* handle, uint32_t count, uint64_t offset, uint32_t flags) {
  Export& e = Of(handle);
  const bool may_unmap = (flags & NBDKIT_FLAG_MAY_TRIM) != 0 && e.can_unmap_zero;
  const std::uint64_t bs = e.block_size;
  if ((flags & NBDKIT_FLAG_FAST_ZERO) != 0 && (offset % bs != 0 || count % bs != 0)) {
    nbdkit_debug("openmpio: fast zero of a partial block: ENOTSUP");
    nbdkit_set_error(ENOTSUP);
    return -1;
  }
  const std::uint64_t stop = offset + count;
  std::uint64_t first = (offset + bs - 1) / bs * bs;
  std::uint64_t end = stop / bs * bs;
  if (end <= first) {  // inside one block, or two partial blocks
    Status s = ReadModifyWrite(e, offset, nullptr, count);
    return s.ok() ? FlushIfFua(e, flags, "zero") : Fail(s, "zero");
  }
  if (offset < first) {
    Status s = ReadModifyWrite(e, offset, nullptr, first - offset);
    if (!s.ok()) return Fail(s, "zero");
  }
  Status s;
  {
    const openmpio::nbd::WriteOrder::Write w(*e.order, {first, end});
    s = e.disk.WriteZeroes(first, end - first, may_unmap ? IoFlags::kMayUnmap : IoFlags::kNone);
  }
  if (!s.ok()) return Fail(s, "zero");
  if (end < stop) {
    s = ReadModifyWrite(e, end, nullptr, stop - end);
    if (!s.ok()) return Fail(s, "zero");
  }
  return FlushIfFua(e, flags, "zero");
}

void DumpPlugin() {
  std::printf("openmpio_transports=sim\n");
  std::printf("openmpio_demo=%s\n", g.demo ? "yes" : "no");
}

nbdkit_plugin MakePlugin() {
  nbdkit_plugin p{};
  p.name = "openmpio";
  p.longname = "openmpio multipath I/O engine";
  p.version = "0.1";
  p.description = "every multipath disk of an openmpio engine as an NBD export";
  p.unload = Unload;
  p.config = Config;
  p.config_complete = ConfigComplete;
  p.config_help =
      "config=<FILE>     openmpio TOML configuration (examples/demo.toml)\n"
      "demo=1            the embedded demo array (the default without config=)\n"
      "reactors=<N>      reactor threads carrying the paths (default: half the CPUs, 1..8)\n"
      "reactor-spin-us=<US>  a reactor polls this long for work before it sleeps (default 50)\n"
      "wait-spin-us=<US> one waiting worker polls this long before it sleeps (default 0)";
  p.open = Open;
  p.close = Close;
  p.get_size = GetSize;
  p.can_write = CanWrite;
  p.can_flush = CanFlush;
  p.is_rotational = IsRotational;
  p.can_trim = CanTrim;
  p.errno_is_preserved = 0;
  p.dump_plugin = DumpPlugin;
  p.can_zero = CanZero;
  p.can_fua = CanFua;
  p.pread = Pread;
  p.pwrite = Pwrite;
  p.flush = Flush;
  p.trim = Trim;
  p.zero = Zero;
  p.magic_config_key = "config";
  p.can_multi_conn = CanMultiConn;
  p.can_fast_zero = CanFastZero;
  p.after_fork = AfterFork;
  p.list_exports = ListExports;
  p.default_export = DefaultExport;
  p.export_description = ExportDescription;
  p.block_size = BlockSize;
  return p;
}

nbdkit_plugin plugin = MakePlugin();

}  // namespace

NBDKIT_REGISTER_PLUGIN(plugin)
