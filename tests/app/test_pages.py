"""Every page against the gold fixture: renders, shows the services' numbers, explains empties."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from app import ui
from services import kpis
from services.filters import Period
from services.warehouse import DuckDBWarehouse
from tests.app.conftest import HOME, ROOT, signed_in, texts
from tests.services import gold_fixture

DATA_THROUGH = date(2026, 6, 20)  # the fixture's last day
PAGES = {
    "overview": "Overview",
    "channels": "Channels",
    "trends": "Trends",
    "media": "Media",
    "admin": "Admin — pipeline runs",
}


@pytest.fixture
def viewer(app_env):
    return signed_in("bob")


@pytest.fixture
def warehouse(gold_root):
    wh = DuckDBWarehouse(gold_root)
    yield wh
    wh.close()


def shown_cards(at) -> list[tuple[str, str, str]]:
    return [(m.label, m.value, m.delta or "") for m in at.metric]


def expected_cards(summary: kpis.KpiSummary) -> list[tuple[str, str, str]]:
    return [(c.label, c.value, c.delta or "") for c in summary.cards()]


def choose_period(at, start: date, end: date):
    at.selectbox(key="flt_preset").set_value("Custom").run()
    return at.date_input(key="flt_custom").set_value((start, end)).run()


def download_buttons(at) -> int:
    return len(at.get("download_button"))


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_renders(app_env, page):
    at = signed_in("alice")
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    assert texts(at.title) == [PAGES[page]]
    assert not at.error
    if page != "admin":
        assert download_buttons(at) >= 1  # every table comes with its CSV
        assert "Data through **2026-06-20**" in " ".join(texts(at.caption))


def test_overview_kpis_equal_the_services_values(viewer, warehouse):
    expected = kpis.kpi_summary(warehouse, Period.last_days(30, DATA_THROUGH))
    assert shown_cards(viewer) == expected_cards(expected)


def test_overview_kpis_for_the_fixture_week_match_the_hand_checked_values(viewer, warehouse):
    at = choose_period(viewer, gold_fixture.PERIOD_START, gold_fixture.PERIOD_END)
    period = Period(gold_fixture.PERIOD_START, gold_fixture.PERIOD_END)
    assert shown_cards(at) == expected_cards(kpis.kpi_summary(warehouse, period))
    # ARCHITECTURE §9 by hand (tests/services/gold_fixture.py): a ratio of sums, distinct
    # visitors, play-weighted engagement; deltas in % and percentage points.
    assert shown_cards(at) == [
        ("Plays", "100", "+100.0%"),
        ("Loads", "350", "+75.0%"),
        ("Play rate", "28.6%", "+3.6 pp"),
        ("Hours watched", "8.0", "+166.7%"),
        ("Unique visitors", "3", "+200.0%"),
        ("Engagement", "52.5%", "+7.5 pp"),
    ]


def test_the_channel_filter_applies(viewer, warehouse):
    at = viewer.selectbox(key="flt_channel").set_value("YouTube").run()
    expected = kpis.kpi_summary(warehouse, Period.last_days(30, DATA_THROUGH), channel="YouTube")
    assert shown_cards(at) == expected_cards(expected)
    # Only YouTube media remain to choose from.
    assert at.selectbox(key="flt_media").options == ["All", "Gap Method YouTube"]


def test_filters_are_shared_across_pages(viewer):
    viewer.selectbox(key="flt_preset").set_value("Last 7 days").run()
    viewer.selectbox(key="flt_channel").set_value("Facebook").run()
    for page in ("trends", "overview"):
        viewer.switch_page(f"app_pages/{page}.py").run()
        assert viewer.selectbox(key="flt_preset").value == "Last 7 days"
        assert viewer.selectbox(key="flt_channel").value == "Facebook"
    assert viewer.session_state[ui.FILTERS_KEY].period == Period(date(2026, 6, 14), DATA_THROUGH)


def test_filters_survive_a_visit_to_the_admin_page(app_env):
    at = signed_in("alice")
    at.selectbox(key="flt_preset").set_value("Last 90 days").run()
    at.switch_page("app_pages/admin.py").run()
    with pytest.raises(KeyError):  # not rendered on the Admin page...
        at.selectbox(key="flt_preset")
    at.switch_page("app_pages/overview.py").run()
    assert at.selectbox(key="flt_preset").value == "Last 90 days"  # ...but remembered


def test_channels_page_puts_facebook_and_youtube_side_by_side(viewer, warehouse):
    at = viewer.switch_page("app_pages/channels.py").run()
    period = Period.last_days(30, DATA_THROUGH)
    comparison = kpis.channel_comparison(warehouse, period, ("Facebook", "YouTube", "Other"))
    assert texts(at.subheader)[:2] == ["Facebook", "YouTube"]
    assert shown_cards(at) == [
        *expected_cards(comparison["Facebook"]),
        *expected_cards(comparison["YouTube"]),
    ]
    table = at.dataframe[0].value
    assert table["channel"].tolist() == ["Facebook", "YouTube", "Other"]
    assert table["plays"].tolist() == [c.current.plays for c in comparison.values()]


def test_trends_switch_between_daily_and_weekly(viewer):
    at = viewer.switch_page("app_pages/trends.py").run()
    assert "date" in at.dataframe[0].value.columns
    at.segmented_control(key="trend_grain").set_value("Weekly").run()
    assert not at.exception
    assert "week" in at.dataframe[0].value.columns


@pytest.mark.parametrize(
    ("media_id", "source"),
    [
        ("m1", "Wistia's own per-second audience curve"),
        ("m2", "derived from how far each play in the period got"),
        ("m3", None),
    ],
)
def test_media_page_labels_the_retention_source(viewer, media_id, source):
    viewer.switch_page("app_pages/media.py").run()
    at = viewer.selectbox(key="media_pick").set_value(media_id).run()
    assert not at.exception
    captions = " ".join(texts(at.caption))
    if source:
        assert source in captions
    else:
        assert "No retention data for this media yet." in texts(at.info)


def test_media_page_follows_the_sidebar_media_filter(viewer):
    viewer.selectbox(key="flt_media").set_value("m2").run()
    at = viewer.switch_page("app_pages/media.py").run()
    assert at.selectbox(key="media_pick").value == "m2"


def test_an_empty_period_is_explained(viewer):
    at = choose_period(viewer, date(2026, 1, 1), date(2026, 1, 7))
    assert not at.exception
    assert ui.EMPTY_PERIOD in texts(at.info)
    for page in ("channels", "trends", "media"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, page


@pytest.mark.parametrize("page", ["overview", "channels", "trends", "media"])
def test_no_gold_data_yet_says_to_run_the_pipeline(app_env, tmp_path, page):
    app_env.setenv("WVI_DATA_ROOT", str(tmp_path))
    at = signed_in("bob")
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    assert texts(at.info) == [ui.NO_DATA]
    assert not at.metric


def test_an_unreadable_warehouse_is_an_error_message_not_a_crash(app_env):
    app_env.setenv("WVI_WAREHOUSE", "sqlite")
    at = signed_in("bob")
    assert not at.exception
    assert "WVI_WAREHOUSE must be duckdb or athena" in " ".join(texts(at.error))


def test_the_pages_are_found_beside_the_entry_point(app_env, tmp_path):
    """As the Docker image lays the app out: Home.py and app_pages/ in one folder, the `app`
    package installed elsewhere."""
    shutil.copy(HOME, tmp_path / "Home.py")
    shutil.copytree(ROOT / "app_pages", tmp_path / "app_pages")
    overview = tmp_path / "app_pages" / "overview.py"  # told apart from the repository's
    overview.write_text(overview.read_text().replace('st.title("Overview")', 'st.title("Copy")'))
    at = signed_in("bob", home=tmp_path / "Home.py")
    assert not at.exception
    assert texts(at.title) == ["Copy"]
