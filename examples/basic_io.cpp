// basic_io: the library API in one page. Starts the embedded demo engine
// (an in-process ALUA array behind four paths), lists its multipath disks,
// writes a pattern to one (asynchronously), reads it back (synchronously),
// checks it, zeroes part of it, flushes, and stops. Exits 0 when every step
// did what it should; prints why otherwise.
//
//   build/…/examples/example_basic_io [CONFIG.toml]
#include <openmpio/openmpio.h>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <vector>

namespace {

int Fail(const char* step, const openmpio::Status& s) {
  std::fprintf(stderr, "basic_io: %s: %s\n", step, s.ToString().c_str());
  return 1;
}

std::byte Pattern(std::size_t i) { return std::byte(static_cast<std::uint8_t>(i * 7 + i / 512)); }

}  // namespace

int main(int argc, char** argv) {
  auto config = argc > 1 ? openmpio::Configuration::Load(argv[1])
                         : openmpio::Expected<openmpio::Configuration>(
                               openmpio::Configuration::Demo());
  if (!config) return Fail("configuration", config.error());

  auto engine = openmpio::MultipathEngine::Create(*config);
  if (!engine) return Fail("starting the engine", engine.error());

  const std::vector<openmpio::DiskDescription> disks = (*engine)->Disks();
  for (const openmpio::DiskDescription& d : disks) {
    std::printf("disk %s: %s %s, %llu bytes, %u-byte blocks, policy %u, %zu paths\n",
                d.name.c_str(), d.vendor.c_str(), d.product.c_str(),
                static_cast<unsigned long long>(d.size_bytes), d.block_size, d.policy,
                d.paths.size());
    for (const openmpio::PathDescription& p : d.paths) {
      std::printf("  path 0x%016llx port %u: %s%s\n", static_cast<unsigned long long>(p.path_id),
                  p.relative_target_port, p.state.c_str(), p.usable ? ", carries I/O" : "");
    }
  }
  if (disks.empty()) return Fail("listing disks", openmpio::Status(openmpio::NtStatus::kNoSuchDevice));

  auto disk = (*engine)->OpenDisk(disks.front().name);
  if (!disk) return Fail("opening the disk", disk.error());

  constexpr std::size_t kBytes = 1U << 20;  // 1 MiB
  const std::uint64_t offset = 4096;
  std::vector<std::byte> out(kBytes);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = Pattern(i);

  // Asynchronous write: the callback runs on an engine thread.
  std::mutex m;
  std::condition_variable cv;
  bool written = false;
  openmpio::Status write_status;
  disk->Write(offset, out, [&](const openmpio::Status& s) {
    std::lock_guard<std::mutex> lock(m);
    write_status = s;
    written = true;
    cv.notify_one();
  });
  {
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return written; });
  }
  if (!write_status.ok()) return Fail("write", write_status);

  // Synchronous read back.
  std::vector<std::byte> in(kBytes);
  if (auto s = disk->Read(offset, in); !s.ok()) return Fail("read", s);
  if (in != out) {
    std::fprintf(stderr, "basic_io: the data read back differs from the data written\n");
    return 1;
  }

  // Zero the first 64 KiB of the pattern; the rest must stay.
  if (auto s = disk->WriteZeroes(offset, 65536); !s.ok()) return Fail("write zeroes", s);
  if (auto s = disk->Read(offset, in); !s.ok()) return Fail("read after zeroing", s);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::byte want = i < 65536 ? std::byte{0} : Pattern(i);
    if (in[i] != want) {
      std::fprintf(stderr, "basic_io: byte %zu after write-zeroes is wrong\n", i);
      return 1;
    }
  }
  if (auto s = disk->Flush(); !s.ok()) return Fail("flush", s);

  // A misaligned request is refused with a Status, not a crash.
  if (auto s = disk->Read(1, std::span<std::byte>(in).first(512)); s.ok()) {
    std::fprintf(stderr, "basic_io: a misaligned read was accepted\n");
    return 1;
  }

  std::printf("basic_io: wrote, read back and verified %zu bytes on %s: OK\n", kBytes,
              disk->name().c_str());
  (*engine)->Stop();
  return 0;
}
