"""Coordinates for carving: latitude/longitude to kilometres, and back for maps.

Points are placed on a sphere of the Earth's radius in three dimensions, so straight-line
(chord) distances are within 0.5 % of great-circle distances up to 1,000 km and the same
code carves one city or the whole world.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from territorial.core.carve.problem import FloatArray

EARTH_RADIUS_KM = 6371.0


def to_xyz(latitude: npt.ArrayLike, longitude: npt.ArrayLike) -> FloatArray:
    """``(n, 3)`` Cartesian coordinates in km of points given in degrees.

    Examples
    --------
    >>> xyz = to_xyz([0.0, 0.0], [0.0, 1.0])
    >>> round(float(np.linalg.norm(xyz[0] - xyz[1])), 1)  # one degree at the equator
    111.2
    """
    lat = np.radians(np.asarray(latitude, dtype=np.float64))
    lon = np.radians(np.asarray(longitude, dtype=np.float64))
    cos_lat = np.cos(lat)
    return (
        np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])
        * EARTH_RADIUS_KM
    )


def to_latlon(xyz: npt.ArrayLike) -> FloatArray:
    """``(n, 2)`` latitude and longitude in degrees of Cartesian points (inverse of
    :func:`to_xyz`; points off the sphere are projected onto it).

    Examples
    --------
    >>> to_latlon(to_xyz([37.5], [-122.0])).round(6).tolist()
    [[37.5, -122.0]]
    """
    p = np.atleast_2d(np.asarray(xyz, dtype=np.float64))
    r = np.linalg.norm(p, axis=1)
    r[r == 0] = 1.0
    lat = np.degrees(np.arcsin(np.clip(p[:, 2] / r, -1.0, 1.0)))
    lon = np.degrees(np.arctan2(p[:, 1], p[:, 0]))
    return np.column_stack([lat, lon])


__all__ = ["EARTH_RADIUS_KM", "to_latlon", "to_xyz"]
