// SnapshotCell (disk_runtime.h): a retired snapshot is freed only after every
// reader that could hold it has unpinned, and then without further help.
#include <gtest/gtest.h>

#include "dsm/snapshot.h"
#include "dsm/topology.h"
#include "engine/disk_runtime.h"

namespace openmpio::engine {
namespace {

std::unique_ptr<const dsm::SelectionSnapshot> Build(const dsm::Disk& disk,
                                                    const dsm::SelectorState& st,
                                                    const dsm::SelectionSnapshot* prev) {
  return dsm::BuildSnapshot(disk, st, prev, dsm::DsmOptions{}, 0);
}

TEST(SnapshotCellTest, RetiredSnapshotWaitsForItsReadersThenIsFreed) {
  dsm::Disk disk;
  disk.device = std::make_shared<dsm::TargetDevice>();
  dsm::SelectorState st;
  SnapshotCell cell;
  cell.Publish(Build(disk, st, nullptr));
  const dsm::SelectionSnapshot* first = cell.current();
  EXPECT_EQ(cell.retired(), 0U);
  {
    const SnapshotCell::Pin pin = cell.Acquire();
    ASSERT_EQ(pin.get(), first);
    cell.Publish(Build(disk, st, cell.current()));
    EXPECT_NE(cell.current(), first);
    EXPECT_EQ(cell.retired(), 1U);  // the reader may still use it
    EXPECT_TRUE(cell.Reclaim());
    EXPECT_EQ(cell.retired(), 1U);
    EXPECT_EQ(pin.get()->generation(), 1U);  // still readable
    // A reader arriving now sees the new snapshot.
    const SnapshotCell::Pin later = cell.Acquire();
    EXPECT_EQ(later.get(), cell.current());
    EXPECT_EQ(later.get()->generation(), 2U);
  }
  EXPECT_FALSE(cell.Reclaim());
  EXPECT_EQ(cell.retired(), 0U);
}

TEST(SnapshotCellTest, WithoutReadersPublishReclaimsAtOnce) {
  dsm::Disk disk;
  disk.device = std::make_shared<dsm::TargetDevice>();
  dsm::SelectorState st;
  SnapshotCell cell;
  for (int i = 0; i < 5; ++i) cell.Publish(Build(disk, st, cell.current()));
  EXPECT_EQ(cell.retired(), 0U);
  EXPECT_EQ(cell.current()->generation(), 5U);
}

}  // namespace
}  // namespace openmpio::engine
