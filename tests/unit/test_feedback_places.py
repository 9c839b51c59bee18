"""Routing's place index (the nearest ward *of the nearest district*) and the public feed's cells."""

from __future__ import annotations

import uuid

from domain.feedback.geo import BBox, index_cell, index_cells
from domain.feedback.model import UnitKind, UnitRef
from domain.feedback.routing import PlaceIndex

HOAN_KIEM = UnitRef(uuid.uuid4(), UnitKind.DISTRICT)
BA_DINH = UnitRef(uuid.uuid4(), UnitKind.DISTRICT)
HANG_BAC = UnitRef(uuid.uuid4(), UnitKind.WARD, HOAN_KIEM.id)
TRANG_TIEN = UnitRef(uuid.uuid4(), UnitKind.WARD, HOAN_KIEM.id)
# A Ba Đình ward whose centroid lies closer to the test point than any Hoàn Kiếm ward.
KIM_MA = UnitRef(uuid.uuid4(), UnitKind.WARD, BA_DINH.id)

INDEX = PlaceIndex([
    (HOAN_KIEM, 21.029, 105.852), (BA_DINH, 21.036, 105.814),
    (HANG_BAC, 21.034, 105.853), (TRANG_TIEN, 21.024, 105.855), (KIM_MA, 21.030, 105.836),
])


def test_nearest_ward_within_the_nearest_district() -> None:
    assert INDEX.locate(21.033, 105.852) == HANG_BAC
    assert INDEX.locate(21.025, 105.856) == TRANG_TIEN


def test_a_nearer_ward_of_another_district_is_not_chosen() -> None:
    # 21.030, 105.842: Kim Mã's centroid is 0.006° away, Hàng Bạc's 0.011°, but the point is nearer to
    # Hoàn Kiếm's district centroid than to Ba Đình's, so the ward must be one of Hoàn Kiếm's.
    assert INDEX.locate(21.030, 105.842) == HANG_BAC


def test_district_without_wards_on_record_and_no_districts_at_all() -> None:
    assert INDEX.locate(21.037, 105.805) == KIM_MA
    lonely = PlaceIndex([(BA_DINH, 21.036, 105.814)])
    assert lonely.locate(21.0, 105.8) == BA_DINH
    assert PlaceIndex([]).locate(21.0, 105.8) is None


def test_index_cells_cover_the_box_and_contain_its_points() -> None:
    box = BBox.around(21.0287, 105.8545, 1000)
    cells = index_cells(box)
    assert len(cells) == len(set(cells))
    for lat in (box[0], 21.0287, box[1]):
        for lon in (box[2], 105.8545, box[3]):
            assert index_cell(lat, lon) in cells
    assert index_cell(21.0287, 105.8545) == 2102 * 100_000 + 10585
    assert len(index_cells(BBox.around(21.0287, 105.8545, 5000))) <= 121  # the largest radius the feed allows
