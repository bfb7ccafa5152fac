"""The fixed world of the synthetic data: advertisers, their products and campaigns, devices, places.

Event rows are random (see ``generate``); the entities they refer to are these constants, so names and
ids are the same for every seed and scale. The mix is skewed on purpose: three big DSP campaigns carry
most impressions, and the ``small`` campaigns reach a fixed audience of fewer than 100 users at any
scale, so AMC's aggregation thresholds visibly remove their rows from detailed reports.

Volumes (``daily``) are events per day at scale 1.0; ``audience`` is the number of distinct users a
campaign can reach at scale 1.0 (a small campaign's audience does not scale).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ENTITY_ID = "ENTITYSANDBOX"
MARKETPLACE = "AMAZON.COM"
CURRENCY_NAME = "US Dollar"
CURRENCY_CODE = "USD"
USER_ID_TYPE = "adUserId"
USERS_AT_SCALE_1 = 150_000
FLIGHT_START = datetime(2025, 1, 1)  # every campaign's flight, in its advertiser's time zone
FLIGHT_END = datetime(2030, 12, 31, 23, 59, 59)


@dataclass(frozen=True)
class Advertiser:
    advertiser_id: int
    name: str
    time_zone: str
    asins: tuple[str, ...]
    prices: tuple[float, ...]  # list price of each ASIN, in dollars


@dataclass(frozen=True)
class DspCampaign:
    campaign_id: int
    name: str
    advertiser_id: int
    daily: float
    audience: int
    creative_type: str  # display, video or audio
    cpm: float  # dollars per thousand impressions
    ctr: float
    line_items: tuple[str, ...]
    promoted: tuple[int, ...]  # indexes into the advertiser's ASINs
    small: bool = False
    goal: str = "ROAS"  # campaign_primary_goal
    managed: bool = False  # run by Amazon's managed service (pays its fee)
    omnichannel: bool = False  # pays the omnichannel measurement fee
    audience_cpm: float = 0.5  # Amazon audience fee, dollars per thousand impressions


@dataclass(frozen=True)
class Target:
    targeting: str
    match_type: str
    search_terms: tuple[str, ...]  # empty: the target is not keyword- or search-driven


@dataclass(frozen=True)
class AdGroup:
    name: str
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class SaCampaign:
    campaign_id: int
    name: str
    advertiser_id: int
    ad_product_type: str
    daily: float
    audience: int
    price: float  # dollars per click, or per thousand impressions for sponsored_tv
    ctr: float
    ad_groups: tuple[AdGroup, ...]
    promoted: tuple[int, ...]
    small: bool = False

    @property
    def pays_per_click(self) -> bool:
        return self.ad_product_type != "sponsored_tv"


ADVERTISERS: tuple[Advertiser, ...] = (
    Advertiser(
        2001,
        "Northwind Outdoor",
        "America/Los_Angeles",
        ("B0NW1TENT2", "B0NW2BAGS4", "B0NW3STOV6", "B0NW4LAMP8", "B0NW5BOTL1"),
        (249.99, 89.50, 59.99, 34.95, 24.00),
    ),
    Advertiser(
        2002,
        "Lumen Home",
        "America/New_York",
        ("B0LU1BULB3", "B0LU2STRP5", "B0LU3DESK7", "B0LU4HUBB9", "B0LU5PLUG2"),
        (19.99, 39.99, 64.00, 99.00, 14.99),
    ),
    Advertiser(
        2003,
        "Cobalt Audio",
        "America/Chicago",
        ("B0CO1HEAD6", "B0CO2BUDS8", "B0CO3SPKR1", "B0CO4SBAR3", "B0CO5CABL5"),
        (199.00, 129.00, 79.99, 299.00, 12.99),
    ),
)

# fmt: off
DSP_CAMPAIGNS: tuple[DspCampaign, ...] = (
    # id, name, advertiser, daily, audience, creative type, CPM, CTR, line items, promoted ASINs
    DspCampaign(31001, "Northwind - Always On Prospecting", 2001, 900, 80_000, "display", 6.0, 0.004,
                ("In-Market Outdoor", "Lifestyle Campers", "Contextual Hiking"), (0, 1, 2), goal="DPVR"),
    DspCampaign(31002, "Lumen - Remarketing", 2002, 700, 15_000, "display", 9.0, 0.006,
                ("Product Viewers 30d", "Cart Abandoners 14d"), (0, 1, 4), audience_cpm=1.0),
    DspCampaign(31003, "Cobalt - Brand Awareness Video", 2003, 800, 100_000, "video", 14.0, 0.002,
                ("Online Video Broad", "Music Lovers", "Commuters"), (0, 1), goal="REACH", managed=True,
                omnichannel=True),
    DspCampaign(31004, "Northwind - Spring Collection", 2001, 250, 10_000, "display", 7.5, 0.005,
                ("Gardeners", "Weekend Travelers"), (3, 4), goal="CTR"),
    DspCampaign(31005, "Lumen - Streaming TV", 2002, 180, 12_000, "video", 28.0, 0.001,
                ("Fire TV Households",), (2, 3), goal="COMPLETION_RATE", managed=True),
    DspCampaign(31006, "Cobalt - Audio Ads", 2003, 120, 6_000, "audio", 12.0, 0.001,
                ("Music Streamers",), (2, 3), goal="REACH"),
    DspCampaign(31007, "Northwind - Local Store Test", 2001, 8, 60, "display", 5.0, 0.01,
                ("Store Radius 5mi",), (0,), small=True, goal="PAGE_VISIT", audience_cpm=0.0),
    DspCampaign(31008, "Lumen - Loyalty Pilot", 2002, 5, 40, "display", 5.0, 0.01,
                ("Loyalty Members",), (1,), small=True),
    DspCampaign(31009, "Cobalt - Creator Collab", 2003, 6, 80, "video", 10.0, 0.01,
                ("Creator Followers",), (1,), small=True),
    DspCampaign(31010, "Lumen - Influencer Test", 2002, 2, 25, "display", 5.0, 0.01,
                ("Influencer Audience",), (4,), small=True),
)
# fmt: on

CREATIVE_SIZES: dict[str, tuple[str, ...]] = {
    "display": ("300x250", "728x90", "160x600", "320x50"),
    "video": ("1920x1080", "1280x720"),
    "audio": ("audio",),
}

EXACT, PHRASE, BROAD, EXPRESSION = "EXACT", "PHRASE", "BROAD", "TARGETING_EXPRESSION"

# fmt: off
SA_CAMPAIGNS: tuple[SaCampaign, ...] = (
    # id, name, advertiser, ad product, daily, audience, price, CTR, ad groups, promoted ASINs
    SaCampaign(41001, "Northwind SP - Tents & Camping", 2001, "sponsored_products", 400, 60_000, 1.10, 0.03, (
        AdGroup("Exact - Tents", (
            Target("camping tent", EXACT, ("camping tent",)),
            Target("4 person tent", EXACT, ("4 person tent",)),
        )),
        AdGroup("Broad - Camping Gear", (
            Target("camping gear", BROAD, ("camping gear", "camping gear for family", "camping essentials")),
            Target("sleeping bag", PHRASE, ("sleeping bag", "warm sleeping bag", "sleeping bag for kids")),
        )),
        AdGroup("Auto", (Target("close-match", EXPRESSION, ("backpacking tent", "tent", "camp stove")),)),
    ), (0, 1, 2)),
    SaCampaign(41002, "Northwind SB - Brand Defense", 2001, "sponsored_brands", 160, 25_000, 1.60, 0.025, (
        AdGroup("Brand Terms", (
            Target("northwind", EXACT, ("northwind",)),
            Target("northwind outdoor", PHRASE, ("northwind outdoor", "northwind outdoor tent")),
        )),
    ), (0, 1, 2, 3)),
    SaCampaign(41003, "Lumen SP - Smart Lighting", 2002, "sponsored_products", 320, 45_000, 0.85, 0.035, (
        AdGroup("Exact - Bulbs", (
            Target("smart bulb", EXACT, ("smart bulb",)),
            Target("wifi light bulb", EXACT, ("wifi light bulb",)),
        )),
        AdGroup("Category - Lighting", (
            Target('category="Smart Lighting"', EXPRESSION, ("led strip lights", "smart lights", "desk lamp")),
        )),
    ), (0, 1, 2)),
    SaCampaign(41004, "Lumen SD - Retargeting Views", 2002, "sponsored_display", 200, 20_000, 0.70, 0.008, (
        AdGroup("Views Remarketing", (Target("views=(exact-product lookback=30)", EXPRESSION, ()),)),
        AdGroup("In-Market Home", (Target('audience="In-market Home Improvement"', EXPRESSION, ()),)),
    ), (0, 3)),
    SaCampaign(41005, "Cobalt SP - Headphones", 2003, "sponsored_products", 240, 35_000, 1.40, 0.03, (
        AdGroup("Exact - Headphones", (
            Target("noise cancelling headphones", EXACT, ("noise cancelling headphones",)),
            Target("wireless earbuds", EXACT, ("wireless earbuds",)),
        )),
        AdGroup("Phrase - Audio", (
            Target("bluetooth speaker", PHRASE, ("bluetooth speaker", "waterproof bluetooth speaker")),
            Target("soundbar", PHRASE, ("soundbar", "soundbar for tv")),
        )),
    ), (0, 1, 2, 3)),
    SaCampaign(41006, "Cobalt STV - Launch", 2003, "sponsored_tv", 100, 30_000, 25.0, 0.0, (
        AdGroup("Streaming Audiences", (Target('audience="Streaming TV Enthusiasts"', EXPRESSION, ()),)),
    ), (3,)),
    SaCampaign(41007, "Cobalt SB - Video Test", 2003, "sponsored_brands", 4, 50, 2.00, 0.05, (
        AdGroup("Video Test", (
            Target("audiophile headphones", BROAD, ("audiophile headphones", "studio headphones")),
        )),
    ), (0,), small=True),
    SaCampaign(41008, "Northwind SP - Clearance", 2001, "sponsored_products", 3, 35, 0.60, 0.05, (
        AdGroup("Clearance", (Target("camping lantern", BROAD, ("camping lantern", "led lantern")),)),
    ), (3,), small=True),
)
# fmt: on

PLACEMENTS: dict[str, tuple[tuple[str, float], ...]] = {
    "sponsored_products": (
        ("Top of Search on-Amazon", 0.45),
        ("Detail Page on-Amazon", 0.35),
        ("Other on-Amazon", 0.2),
    ),
    "sponsored_brands": (("Top of Search on-Amazon", 0.7), ("Other on-Amazon", 0.3)),
    "sponsored_display": (("Detail Page on-Amazon", 0.5), ("Off Amazon", 0.5)),
    "sponsored_tv": (("Streaming TV", 1.0),),
}

# (device type, operating system, share of users, share of their impressions served in apps)
DEVICES: tuple[tuple[str, str, float, float], ...] = (
    ("Phone", "iOS", 0.24, 0.6),
    ("Phone", "Android", 0.20, 0.6),
    ("PC", "Windows", 0.18, 0.0),
    ("PC", "macOS", 0.08, 0.0),
    ("TV", "Fire OS", 0.08, 1.0),
    ("TV", "Roku OS", 0.04, 1.0),
    ("TV", "tvOS", 0.03, 1.0),
    ("Tablet", "iPadOS", 0.06, 0.7),
    ("Tablet", "Fire OS", 0.04, 0.7),
    ("Other", "Other", 0.05, 0.0),
)

SUPPLY_SOURCES: tuple[tuple[str, float], ...] = (
    ("Amazon O&O", 0.35),
    ("Amazon Publisher Services", 0.15),
    ("Google Ad Manager", 0.18),
    ("Magnite", 0.12),
    ("PubMatic", 0.10),
    ("Index Exchange", 0.10),
)

# (country, state or province, DMA code or None, city, postal codes, share of users)
PLACES: tuple[tuple[str, str, str | None, str, tuple[str, ...], float], ...] = (
    ("US", "US-NY", "501", "New York", ("10001", "10025", "11201"), 9.0),
    ("US", "US-CA", "803", "Los Angeles", ("90012", "90210", "91101"), 7.0),
    ("US", "US-IL", "602", "Chicago", ("60601", "60614"), 4.0),
    ("US", "US-PA", "504", "Philadelphia", ("19103", "19146"), 3.0),
    ("US", "US-TX", "623", "Dallas", ("75201", "75204"), 3.0),
    ("US", "US-TX", "618", "Houston", ("77002", "77006"), 3.0),
    ("US", "US-CA", "807", "San Francisco", ("94103", "94110"), 3.0),
    ("US", "US-MA", "506", "Boston", ("02108", "02139"), 2.5),
    ("US", "US-GA", "524", "Atlanta", ("30303", "30309"), 2.5),
    ("US", "US-DC", "511", "Washington", ("20001", "20009"), 2.5),
    ("US", "US-WA", "819", "Seattle", ("98101", "98109"), 2.0),
    ("US", "US-AZ", "753", "Phoenix", ("85004", "85016"), 2.0),
    ("US", "US-CO", "751", "Denver", ("80202", "80205"), 1.5),
    ("US", "US-FL", "528", "Miami", ("33130", "33139"), 2.0),
    ("US", "US-MN", "613", "Minneapolis", ("55401", "55408"), 1.5),
    ("US", "US-MT", "762", "Missoula", ("59801",), 0.2),
    ("CA", "CA-ON", None, "Toronto", ("M5V 2T6", "M4C 1B5"), 3.0),
    ("CA", "CA-BC", None, "Vancouver", ("V6B 1A1",), 1.5),
    ("CA", "CA-QC", None, "Montreal", ("H2X 1Y4",), 1.5),
    ("GB", "GB-ENG", None, "London", ("SW1A 1AA", "E1 6AN"), 2.0),
    ("DE", "DE-BE", None, "Berlin", ("10115",), 1.0),
    ("MX", "MX-CMX", None, "Mexico City", ("06600",), 1.0),
)

PLATFORM_FEE_RATE = 0.10  # share of the supply cost
MANAGED_SERVICE_FEE_RATE = 0.08
OCM_FEE_RATE = 0.02
THIRD_PARTY_CPM = {"display": 0.05, "video": 0.10, "audio": 0.0}  # verification fees, dollars per thousand


@dataclass(frozen=True)
class Inventory:
    """What an impression of a supply source ran on; each impression picks one web site or app by its hash."""

    supply_source_id: int
    amazon_owned: bool
    view_aware: bool  # measures viewability
    view_rate: float  # share of measured impressions that are viewable
    deal: tuple[str, str] | None  # (deal id, name) some impressions are bought through
    sites: tuple[str, str]
    apps: tuple[tuple[str, str], tuple[str, str]]  # (site, app bundle)
    page_types: tuple[str, str]


# By supply source name (see SUPPLY_SOURCES).
INVENTORY: dict[str, Inventory] = {
    "Amazon O&O": Inventory(3001, True, True, 0.78, None, ("amazon.com", "imdb.com"),
                            (("Prime Video", "com.amazon.avod"), ("Twitch", "id460177396")),
                            ("Search", "Detail")),
    "Amazon Publisher Services": Inventory(3002, False, True, 0.66, ("APS-PMP-0001", "APS Premium News PMP"),
                                           ("dailyherald.example", "weatherwatch.example"),
                                           (("NewsNow", "com.newsnow.app"),
                                            ("Weather Watch", "id1089345123")),
                                           ("Article", "Home")),
    "Google Ad Manager": Inventory(3003, False, True, 0.61, None, ("recipebox.example", "autoreview.example"),
                                   (("Recipe Box", "com.recipebox.app"),
                                    ("Puzzle Time", "id1512345678")),
                                   ("Article", "Home")),
    "Magnite": Inventory(3004, False, True, 0.58, ("MGN-PG-0077", "Magnite CTV Programmatic Guaranteed"),
                         ("sportsdaily.example", "moviebuzz.example"),
                         (("StreamFlix", "roku.streamflix"), ("FreeTV", "com.freetv.firetv")),
                         ("Article", "Video")),
    "PubMatic": Inventory(3005, False, False, 0.55, None, ("techtalk.example", "homegarden.example"),
                          (("Word Quest", "com.wordquest"), ("Fit Coach", "id1423456789")),
                          ("Article", "Home")),
    "Index Exchange": Inventory(3006, False, True, 0.57, None, ("travelnotes.example", "financetoday.example"),
                                (("Travel Notes", "com.travelnotes"), ("Market Watcher", "id998877665")),
                                ("Article", "Home")),
}

# Per entry of DEVICES: (make, model) pairs, OS versions, web browsers, and the browser family of its apps.
DEVICE_DETAILS: tuple[tuple[tuple[tuple[str, str], ...], tuple[str, ...], tuple[str, ...], str], ...] = (
    ((("Apple", "iPhone 15"), ("Apple", "iPhone 13")), ("17.5.1", "18.1"), ("Mobile Safari", "Chrome Mobile"),
     "iOS App"),
    ((("Samsung", "Galaxy S24"), ("Google", "Pixel 8"), ("Motorola", "moto g")), ("14", "15"),
     ("Chrome Mobile", "Samsung Internet"), "Android App"),
    ((("Dell", "Desktop"), ("Lenovo", "Laptop"), ("HP", "Laptop")), ("10", "11"), ("Chrome", "Edge", "Firefox"),
     "Windows App"),
    ((("Apple", "Mac"),), ("14.5", "15.1"), ("Safari", "Chrome"), "macOS App"),
    ((("Amazon", "Fire TV Stick 4K"), ("Amazon", "Fire TV Cube")), ("7.6",), ("Silk",), "Fire TV App"),
    ((("Roku", "Roku Ultra"), ("TCL", "Roku TV")), ("12.5", "13.0"), ("Roku",), "Roku App"),
    ((("Apple", "Apple TV 4K"),), ("17.5", "18.1"), ("Safari",), "tvOS App"),
    ((("Apple", "iPad"), ("Apple", "iPad Air")), ("17.5", "18.1"), ("Mobile Safari",), "iOS App"),
    ((("Amazon", "Fire HD 10"),), ("8.3",), ("Silk",), "Fire OS App"),
    ((("Unknown", "Unknown"),), ("Unknown",), ("Other",), "Other App"),
)

# Conversion subtype: (category, type class, description) as AMC reports them.
SUBTYPE_DETAILS: dict[str, tuple[str, str, str]] = {
    "detailPageView": ("website", "consideration", "Product detail page viewed"),
    "addToCart": ("website", "consideration", "Add to Shopping Cart"),
    "order": ("purchase", "conversion", "Product purchased"),
}
HALO_CODES = ("BRAND_MARKETPLACE", "BRAND_GL_PRODUCT", "BRAND_CATEGORY", "BRAND_SUBCATEGORY")

# Conversion subtypes of ad-driven and of organic conversion events, with their shares.
CONVERSION_SUBTYPES: tuple[tuple[str, float], ...] = (("detailPageView", 0.45), ("addToCart", 0.2), ("order", 0.35))
ORGANIC_DAILY = 150.0  # organic conversion events per advertiser and day at scale 1.0
