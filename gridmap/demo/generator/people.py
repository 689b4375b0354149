"""Synthetic people: grid workers, community secretaries, Party households, department staff."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridmap.demo.generator.names import person_names, phones

# The ~15 service departments enrolled in every grid ("网格吹哨、部门报到"), fixed order.
DEPARTMENTS = (
    ("civil_affairs", "民政", "Civil Affairs"),
    ("emergency", "应急管理", "Emergency Management"),
    ("housing", "房产", "Housing"),
    ("water", "水务", "Water"),
    ("power", "电力", "Power"),
    ("gas", "燃气", "Gas"),
    ("heating", "供热", "Heating"),
    ("police", "公安", "Police"),
    ("urban_management", "城管", "Urban Management"),
    ("health", "卫健", "Health"),
    ("human_resources", "人社", "Human Resources & Social Security"),
    ("market_regulation", "市场监管", "Market Regulation"),
    ("environment", "生态环境", "Ecology & Environment"),
    ("transport", "交通", "Transport"),
    ("fire", "消防", "Fire & Rescue"),
)
ID_STRIDE = 10**6  # person ids: district code * ID_STRIDE + sequence


def make_people(district: str, communities: list[str], grids: pd.DataFrame,
                rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """People, enrollments (grid × department → staff) and grid workers of one district."""
    dept_codes = [d[0] for d in DEPARTMENTS]
    n_grid, n_comm, n_dept = len(grids), len(communities), len(dept_codes)
    party_per_grid = rng.integers(1, 3, n_grid)
    grid_comm = grids.community_code.to_numpy()
    role = (["grid_worker"] * n_grid + ["community_secretary"] * n_comm
            + ["party_household"] * int(party_per_grid.sum())
            + ["department_staff"] * (n_comm * n_dept))
    comm = np.concatenate([grid_comm, communities, np.repeat(grid_comm, party_per_grid),
                           np.repeat(communities, n_dept)])
    dept = [None] * (n_grid + n_comm + int(party_per_grid.sum())) + dept_codes * n_comm
    n = len(role)
    ids = int(district) * ID_STRIDE + np.arange(n, dtype=np.int64)
    people = pd.DataFrame({
        "person_id": ids, "name": person_names(rng, n), "phone": phones(rng, n), "role": role,
        "department_code": pd.Series(dept, dtype=object), "community_code": comm,
    })
    workers = pd.DataFrame({"grid_code": grids.code.to_numpy(), "person_id": ids[:n_grid]})
    staff_start = n - n_comm * n_dept
    comm_pos = pd.Series(np.arange(n_comm), index=communities)[grid_comm].to_numpy()
    staff = staff_start + comm_pos[:, None] * n_dept + np.arange(n_dept)[None, :]
    enrollments = pd.DataFrame({
        "grid_code": np.repeat(grids.code.to_numpy(), n_dept),
        "department_code": np.tile(dept_codes, n_grid),
        "person_id": ids[staff.ravel()],
    })
    return people, enrollments, workers
