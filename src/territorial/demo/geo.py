"""Where demo accounts are: real US ZIP codes and a small table of cities elsewhere.

US accounts sit at real ZIP codes (from the offline ``zipcodes`` package) with their
city, state and coordinates, weighted towards populous places: a ZIP's weight is the
geometric mean of the number of ZIP codes in its city and in its county, which is large
in metropolitan areas and small in the countryside. Other accounts sit in the cities of
``CITIES`` with plausible postal codes and coordinates near the city centre.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
import polars as pl

from territorial.core.carve.coverage import us_zip_table

US_SHARE = 0.67

US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip

# Country code -> (country name, share of the non-US accounts in percent).
COUNTRIES: dict[str, tuple[str, float]] = {
    "CA": ("Canada", 5.0), "GB": ("United Kingdom", 5.0), "IE": ("Ireland", 0.7),
    "DE": ("Germany", 4.0), "AT": ("Austria", 0.6), "CH": ("Switzerland", 0.9),
    "FR": ("France", 3.0), "NL": ("Netherlands", 1.5), "BE": ("Belgium", 0.8),
    "LU": ("Luxembourg", 0.2), "SE": ("Sweden", 1.0), "NO": ("Norway", 0.6),
    "DK": ("Denmark", 0.6), "FI": ("Finland", 0.5), "IS": ("Iceland", 0.1),
    "JP": ("Japan", 2.5), "AU": ("Australia", 2.0), "NZ": ("New Zealand", 0.5),
    "SG": ("Singapore", 0.8), "IN": ("India", 1.5), "HK": ("Hong Kong", 0.4),
    "KR": ("South Korea", 0.5), "MY": ("Malaysia", 0.3), "MX": ("Mexico", 0.6),
    "BR": ("Brazil", 0.5),
}  # fmt: skip

# (country code, city, state, state code, postal pattern, latitude, longitude, weight).
# In a postal pattern "#" is a random digit and "@" a random upper-case letter.
CITIES: tuple[tuple[str, str, str, str, str, float, float, float], ...] = (
    ("CA", "Toronto", "Ontario", "ON", "M5V #@#", 43.6532, -79.3832, 30),
    ("CA", "Mississauga", "Ontario", "ON", "L5B #@#", 43.5890, -79.6441, 6),
    ("CA", "Ottawa", "Ontario", "ON", "K1P #@#", 45.4215, -75.6972, 8),
    ("CA", "Montréal", "Quebec", "QC", "H3B #@#", 45.5017, -73.5673, 18),
    ("CA", "Québec", "Quebec", "QC", "G1R #@#", 46.8139, -71.2080, 4),
    ("CA", "Vancouver", "British Columbia", "BC", "V6B #@#", 49.2827, -123.1207, 14),
    ("CA", "Calgary", "Alberta", "AB", "T2P #@#", 51.0447, -114.0719, 9),
    ("CA", "Edmonton", "Alberta", "AB", "T5J #@#", 53.5461, -113.4938, 6),
    ("CA", "Winnipeg", "Manitoba", "MB", "R3C #@#", 49.8951, -97.1384, 4),
    ("CA", "Saskatoon", "Saskatchewan", "SK", "S7K #@#", 52.1332, -106.6700, 2),
    ("CA", "Halifax", "Nova Scotia", "NS", "B3J #@#", 44.6488, -63.5752, 3),
    ("CA", "St. John's", "Newfoundland and Labrador", "NL", "A1C #@#", 47.5615, -52.7126, 1),
    ("GB", "London", "", "", "EC2A #@@", 51.5226, -0.0846, 10),
    ("GB", "London", "", "", "W1D #@@", 51.5136, -0.1365, 8),
    ("GB", "London", "", "", "SW1A #@@", 51.5014, -0.1419, 5),
    ("GB", "London", "", "", "E14 #@@", 51.5054, -0.0235, 6),
    ("GB", "Manchester", "", "", "M1 #@@", 53.4808, -2.2426, 6),
    ("GB", "Birmingham", "", "", "B1 #@@", 52.4862, -1.8904, 5),
    ("GB", "Leeds", "", "", "LS1 #@@", 53.8008, -1.5491, 3),
    ("GB", "Bristol", "", "", "BS1 #@@", 51.4545, -2.5879, 3),
    ("GB", "Edinburgh", "", "", "EH2 #@@", 55.9533, -3.1883, 3),
    ("GB", "Glasgow", "", "", "G2 #@@", 55.8642, -4.2518, 3),
    ("GB", "Cambridge", "", "", "CB2 #@@", 52.2053, 0.1218, 2),
    ("GB", "Reading", "", "", "RG1 #@@", 51.4543, -0.9781, 2),
    ("GB", "Belfast", "", "", "BT1 #@@", 54.5973, -5.9301, 1),
    ("IE", "Dublin", "", "", "D02 @#@#", 53.3498, -6.2603, 8),
    ("IE", "Cork", "", "", "T12 @#@#", 51.8985, -8.4756, 2),
    ("IE", "Galway", "", "", "H91 @#@#", 53.2707, -9.0568, 1),
    ("DE", "Berlin", "", "", "10###", 52.5200, 13.4050, 10),
    ("DE", "Hamburg", "", "", "20###", 53.5511, 9.9937, 6),
    ("DE", "München", "", "", "80###", 48.1351, 11.5820, 9),
    ("DE", "Frankfurt am Main", "", "", "60###", 50.1109, 8.6821, 7),
    ("DE", "Köln", "", "", "50###", 50.9375, 6.9603, 5),
    ("DE", "Düsseldorf", "", "", "40###", 51.2277, 6.7735, 5),
    ("DE", "Stuttgart", "", "", "70###", 48.7758, 9.1829, 5),
    ("DE", "Leipzig", "", "", "04###", 51.3397, 12.3731, 2),
    ("DE", "Dresden", "", "", "01###", 51.0504, 13.7373, 2),
    ("DE", "Nürnberg", "", "", "90###", 49.4521, 11.0767, 2),
    ("DE", "Hannover", "", "", "30###", 52.3759, 9.7320, 2),
    ("DE", "Walldorf", "", "", "6919#", 49.3064, 8.6428, 1),
    ("AT", "Wien", "", "", "10##", 48.2082, 16.3738, 5),
    ("AT", "Graz", "", "", "80##", 47.0707, 15.4395, 1),
    ("AT", "Linz", "", "", "40##", 48.3069, 14.2858, 1),
    ("CH", "Zürich", "", "", "80##", 47.3769, 8.5417, 5),
    ("CH", "Genève", "", "", "12##", 46.2044, 6.1432, 3),
    ("CH", "Basel", "", "", "40##", 47.5596, 7.5886, 2),
    ("CH", "Bern", "", "", "30##", 46.9480, 7.4474, 1),
    ("CH", "Lausanne", "", "", "10##", 46.5197, 6.6323, 1),
    ("FR", "Paris", "", "", "750##", 48.8566, 2.3522, 14),
    ("FR", "Courbevoie", "", "", "9240#", 48.8976, 2.2522, 2),
    ("FR", "Lyon", "", "", "6900#", 45.7640, 4.8357, 4),
    ("FR", "Marseille", "", "", "130##", 43.2965, 5.3698, 2),
    ("FR", "Toulouse", "", "", "310##", 43.6047, 1.4442, 2),
    ("FR", "Lille", "", "", "590##", 50.6292, 3.0573, 1),
    ("FR", "Nantes", "", "", "440##", 47.2184, -1.5536, 1),
    ("FR", "Bordeaux", "", "", "330##", 44.8378, -0.5792, 1),
    ("FR", "Nice", "", "", "060##", 43.7102, 7.2620, 1),
    ("NL", "Amsterdam", "", "", "10## @@", 52.3676, 4.9041, 8),
    ("NL", "Rotterdam", "", "", "30## @@", 51.9244, 4.4777, 4),
    ("NL", "Utrecht", "", "", "35## @@", 52.0907, 5.1214, 2),
    ("NL", "Den Haag", "", "", "25## @@", 52.0705, 4.3007, 2),
    ("NL", "Eindhoven", "", "", "56## @@", 51.4416, 5.4697, 2),
    ("BE", "Brussels", "", "", "10##", 50.8503, 4.3517, 5),
    ("BE", "Antwerpen", "", "", "20##", 51.2194, 4.4025, 3),
    ("BE", "Gent", "", "", "90##", 51.0543, 3.7174, 1),
    ("LU", "Luxembourg", "", "", "L-1###", 49.6116, 6.1319, 1),
    ("SE", "Stockholm", "", "", "11# ##", 59.3293, 18.0686, 6),
    ("SE", "Göteborg", "", "", "41# ##", 57.7089, 11.9746, 2),
    ("SE", "Malmö", "", "", "21# ##", 55.6050, 13.0038, 2),
    ("NO", "Oslo", "", "", "01##", 59.9139, 10.7522, 5),
    ("NO", "Bergen", "", "", "50##", 60.3913, 5.3221, 1),
    ("DK", "København", "", "", "1###", 55.6761, 12.5683, 5),
    ("DK", "Aarhus", "", "", "80##", 56.1629, 10.2039, 1),
    ("FI", "Helsinki", "", "", "001##", 60.1699, 24.9384, 4),
    ("FI", "Espoo", "", "", "021##", 60.2055, 24.6559, 1),
    ("FI", "Tampere", "", "", "331##", 61.4978, 23.7610, 1),
    ("IS", "Reykjavík", "", "", "1##", 64.1466, -21.9426, 1),
    ("JP", "Tokyo", "Tokyo", "", "1##-####", 35.6762, 139.6503, 14),
    ("JP", "Yokohama", "Kanagawa", "", "22#-####", 35.4437, 139.6380, 3),
    ("JP", "Osaka", "Osaka", "", "53#-####", 34.6937, 135.5023, 6),
    ("JP", "Nagoya", "Aichi", "", "45#-####", 35.1815, 136.9066, 3),
    ("JP", "Kyoto", "Kyoto", "", "60#-####", 35.0116, 135.7681, 1),
    ("JP", "Fukuoka", "Fukuoka", "", "81#-####", 33.5904, 130.4017, 1),
    ("JP", "Sapporo", "Hokkaido", "", "06#-####", 43.0618, 141.3545, 1),
    ("AU", "Sydney", "New South Wales", "NSW", "20##", -33.8688, 151.2093, 8),
    ("AU", "Melbourne", "Victoria", "VIC", "30##", -37.8136, 144.9631, 7),
    ("AU", "Brisbane", "Queensland", "QLD", "40##", -27.4698, 153.0251, 3),
    ("AU", "Perth", "Western Australia", "WA", "60##", -31.9505, 115.8605, 2),
    ("AU", "Adelaide", "South Australia", "SA", "50##", -34.9285, 138.6007, 1),
    ("AU", "Canberra", "Australian Capital Territory", "ACT", "26##", -35.2809, 149.1300, 1),
    ("AU", "Hobart", "Tasmania", "TAS", "70##", -42.8821, 147.3272, 0.5),
    ("NZ", "Auckland", "", "", "10##", -36.8485, 174.7633, 3),
    ("NZ", "Wellington", "", "", "60##", -41.2865, 174.7762, 2),
    ("NZ", "Christchurch", "", "", "80##", -43.5321, 172.6362, 1),
    ("SG", "Singapore", "", "", "0#####", 1.2903, 103.8520, 1),
    ("IN", "Bengaluru", "Karnataka", "", "5600##", 12.9716, 77.5946, 5),
    ("IN", "Mumbai", "Maharashtra", "", "4000##", 19.0760, 72.8777, 4),
    ("IN", "New Delhi", "Delhi", "", "1100##", 28.6139, 77.2090, 3),
    ("IN", "Hyderabad", "Telangana", "", "5000##", 17.3850, 78.4867, 3),
    ("IN", "Pune", "Maharashtra", "", "4110##", 18.5204, 73.8567, 2),
    ("IN", "Chennai", "Tamil Nadu", "", "6000##", 13.0827, 80.2707, 2),
    ("IN", "Gurugram", "Haryana", "", "1220##", 28.4595, 77.0266, 2),
    ("HK", "Hong Kong", "", "", "", 22.3193, 114.1694, 1),
    ("KR", "Seoul", "", "", "0####", 37.5665, 126.9780, 4),
    ("KR", "Busan", "", "", "4####", 35.1796, 129.0756, 1),
    ("MY", "Kuala Lumpur", "", "", "50###", 3.1390, 101.6869, 2),
    ("MY", "George Town", "", "", "10###", 5.4141, 100.3288, 1),
    ("MX", "Ciudad de México", "", "", "0####", 19.4326, -99.1332, 3),
    ("MX", "Monterrey", "", "", "64###", 25.6866, -100.3161, 2),
    ("MX", "Guadalajara", "", "", "44###", 20.6597, -103.3496, 1),
    ("BR", "São Paulo", "", "", "0####-###", -23.5505, -46.6333, 4),
    ("BR", "Rio de Janeiro", "", "", "2####-###", -22.9068, -43.1729, 2),
)

LOCATION_COLUMNS = (
    "billing_country",
    "billing_country_code",
    "billing_state",
    "billing_state_code",
    "billing_city",
    "billing_postal_code",
    "latitude",
    "longitude",
)


@cache
def us_zip_codes() -> pl.DataFrame:
    """Active standard ZIP codes of the 50 states and DC with coordinates, and a weight."""
    zips = us_zip_table().filter(
        pl.col("active"),
        pl.col("zip_code_type") == "STANDARD",
        pl.col("state").is_in(list(US_STATES)),
        pl.col("lat").is_not_null(),
    )
    in_city = pl.len().over("state", "city").cast(pl.Float64)
    in_county = pl.len().over("state", "county").cast(pl.Float64)
    return zips.select(
        "zip_code",
        "city",
        "state",
        "lat",
        "long",
        weight=(in_city * in_county).sqrt(),
    )


def _us_places() -> pl.DataFrame:
    zips = us_zip_codes()
    return zips.select(
        country=pl.lit("United States"),
        code=pl.lit("US"),
        state=pl.col("state").replace_strict(US_STATES),
        state_code="state",
        city="city",
        pattern="zip_code",
        lat="lat",
        lon="long",
        p=pl.col("weight") / pl.col("weight").sum() * US_SHARE,
        jitter=pl.lit(0.0),
    )


def _international_places() -> pl.DataFrame:
    columns = ("code", "city", "state", "state_code", "pattern", "lat", "lon", "weight")
    frame = pl.DataFrame(list(CITIES), schema=list(columns), orient="row")
    share = pl.col("code").replace_strict({k: v[1] for k, v in COUNTRIES.items()})
    in_country = pl.col("weight") / pl.col("weight").sum().over("code")
    return frame.select(
        country=pl.col("code").replace_strict({k: v[0] for k, v in COUNTRIES.items()}),
        code="code",
        state=pl.col("state").replace("", None),
        state_code=pl.col("state_code").replace("", None),
        city="city",
        pattern="pattern",
        lat="lat",
        lon="lon",
        p=in_country * share,
        jitter=pl.lit(0.03),
    ).with_columns(pl.col("p") / pl.col("p").sum() * (1.0 - US_SHARE))


@cache
def places() -> pl.DataFrame:
    """Every place an account can be, with its probability and coordinate jitter (degrees)."""
    both = pl.concat([_us_places(), _international_places()])
    return both.with_columns(pl.col("p") / pl.col("p").sum())


def _fill_patterns(
    rng: np.random.Generator, patterns: list[str], rows: npt.NDArray[np.int64]
) -> pl.Series:
    """``patterns[rows]`` with ``#`` replaced by random digits and ``@`` by random letters."""
    table = np.array(patterns, dtype="S")
    width = table.dtype.itemsize
    chars = table.view(np.uint8).reshape(len(table), width)[rows]
    digits = rng.integers(ord("0"), ord("9") + 1, size=chars.shape, dtype=np.uint8)
    letters = rng.integers(ord("A"), ord("Z") + 1, size=chars.shape, dtype=np.uint8)
    chars = np.where(chars == ord("#"), digits, chars)
    chars = np.where(chars == ord("@"), letters, chars)
    filled = pl.Series(np.ascontiguousarray(chars).view(f"S{width}").ravel()).cast(pl.String)
    return filled.replace("", None)


def sample_locations(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """``n`` billing addresses, about ``US_SHARE`` of them in the US.

    US addresses are exactly their ZIP code's city, state and coordinates; elsewhere the
    coordinates are scattered a few kilometres around the city centre.
    """
    table = places()
    rows = rng.choice(len(table), size=n, p=table["p"].to_numpy())
    chosen = table[pl.Series(rows)]
    spread = chosen["jitter"].to_numpy()
    jitter = rng.normal(0.0, 1.0, size=(2, n)) * spread
    return pl.DataFrame(
        {
            "billing_country": chosen["country"],
            "billing_country_code": chosen["code"],
            "billing_state": chosen["state"],
            "billing_state_code": chosen["state_code"],
            "billing_city": chosen["city"],
            "billing_postal_code": _fill_patterns(rng, table["pattern"].to_list(), rows),
            "latitude": (chosen["lat"] + jitter[0]).round(4),
            "longitude": (chosen["lon"] + jitter[1]).round(4),
        }
    )


__all__ = [
    "CITIES",
    "COUNTRIES",
    "LOCATION_COLUMNS",
    "US_STATES",
    "places",
    "sample_locations",
    "us_zip_codes",
]
