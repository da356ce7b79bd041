"""The schedule data file, what is generated from it, and the syllabus's private data.

Fast tests need no build; those marked ``slow`` build the book once (``book_site``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
import yaml
from book_site import (
    PASSCODE_SHA256,
    REPO,
    build_book,
    private_strings,
    seed_file,
    toc_docnames,
)

from autograder import schedule as sch

UTC = dt.UTC

#: Every dated meeting's start in UTC, worked out by hand from the syllabus: 9 AM in Vancouver
#: (9:15 on 28 Jan) is 17:00 UTC under PST (UTC-8) and 16:00 UTC under PDT (UTC-7, from 13 March
#: 2022).
EXPECTED_UTC_STARTS = {
    "2022-01-21-vesper": dt.datetime(2022, 1, 21, 17, 0, tzinfo=UTC),
    "2022-01-28-huang": dt.datetime(2022, 1, 28, 17, 15, tzinfo=UTC),
    "2022-02-04-rotations": dt.datetime(2022, 2, 4, 17, 0, tzinfo=UTC),
    "2022-02-11-sparx-eman2": dt.datetime(2022, 2, 11, 17, 0, tzinfo=UTC),
    "2022-02-25-rotation-averaging": dt.datetime(2022, 2, 25, 17, 0, tzinfo=UTC),
    "2022-03-04-orientation-estimation": dt.datetime(2022, 3, 4, 17, 0, tzinfo=UTC),
    "2022-03-11-sanz-moreta": dt.datetime(2022, 3, 11, 17, 0, tzinfo=UTC),
    "2022-03-18-cryoai-1": dt.datetime(2022, 3, 18, 16, 0, tzinfo=UTC),
    "2022-03-25-cryoai-2": dt.datetime(2022, 3, 25, 16, 0, tzinfo=UTC),
    "2022-04-01-hanson": dt.datetime(2022, 4, 1, 16, 0, tzinfo=UTC),
    "2022-04-08-cryofold": dt.datetime(2022, 4, 8, 16, 0, tzinfo=UTC),
}
EXPECTED_PROBLEM_SETS = {
    "ps01_quaternions": [dt.date(2022, 2, 4)],
    "ps02_so3_metrics": [dt.date(2022, 2, 25)],
    "ps03_rotation_averaging": [dt.date(2022, 2, 25)],
    "ps04_projection_layer": [dt.date(2022, 3, 4), dt.date(2022, 3, 18), dt.date(2022, 3, 25)],
    "ps05_transforms_sampling": [dt.date(2022, 2, 11)],
    "ps06_superposition": [dt.date(2022, 3, 11), dt.date(2022, 4, 1)],
    "ps07_map_alignment": [dt.date(2022, 1, 21)],
    "ps08_pose_losses": [dt.date(2022, 3, 4), dt.date(2022, 3, 18), dt.date(2022, 3, 25)],
    "ps09_bayesian_denoising": [dt.date(2022, 1, 28)],
}


@pytest.fixture(scope="module")
def schedule() -> sch.Schedule:
    return sch.load_schedule()


# --------------------------------------------------------------------------- the data file


def test_schedule_holds_every_meeting_of_the_syllabus(schedule: sch.Schedule) -> None:
    assert schedule.timezone == "America/Vancouver"
    assert [m.slug for m in schedule.dated_meetings] == list(EXPECTED_UTC_STARTS)
    no_meeting = [m for m in schedule.meetings if m.kind == "no-meeting"]
    assert [m.date for m in no_meeting] == [dt.date(2022, 2, 18)]
    upcoming = [m.guest for m in schedule.meetings if m.kind == "upcoming"]
    # the syllabus's order (§4.3–4.6), not the order of the tentative dates
    assert upcoming == ["Nina Miolane", "Roy Lederman", "David Silva", "Ellen Zhong"]
    for m in schedule.dated_meetings:
        assert m.date is not None and m.date.weekday() == 4, f"{m.slug} is not on a Friday"
        assert m.start is not None and m.start.tzinfo is not None
    guests = {m.slug: m.guest for m in schedule.dated_meetings if m.guest}
    assert guests == {
        "2022-01-28-huang": "Qinwen (Wendy) Huang",
        "2022-03-11-sanz-moreta": "Lys Sanz Moreta",
        "2022-04-01-hanson": "Andrew Hanson",
    }


def _syllabus_upcoming_guests() -> list[str]:
    """The upcoming guests in the order of the syllabus's §4 headings ("4.3 May/June 2022 -
    Guest: Nina Miolane."), dated meetings (§4.1, §4.2) left out."""
    seed = seed_file()
    if seed is None:
        pytest.skip("the syllabus (shared/seed) is not beside this checkout")
    text = seed.read_text(encoding="utf-8")
    body = text[text.index("\n4 Upcoming Meetings\n") : text.index("\n5 Reading list\n")]
    headings = re.findall(r"^4\.\d+ (.+)$", body, re.M)
    assert len(headings) == 6, headings
    return [m[1] for h in headings[2:] if (m := re.search(r"Guest: ([^.]+)", h))]


def test_upcoming_guests_keep_the_syllabus_order(schedule: sch.Schedule) -> None:
    syllabus = _syllabus_upcoming_guests()
    assert syllabus == ["Nina Miolane", "Roy Lederman", "David Silva", "Ellen Zhong"]
    assert [m.guest for m in schedule.meetings if m.kind == "upcoming"] == syllabus
    toc = [d for d in toc_docnames() if d.startswith("book/meetings/upcoming-")]
    assert toc == [m.docname for m in schedule.meetings if m.kind == "upcoming"]


def test_local_times_cross_the_daylight_saving_change(schedule: sch.Schedule) -> None:
    for m in schedule.dated_meetings:
        assert m.start is not None
        assert m.start.astimezone(UTC) == EXPECTED_UTC_STARTS[m.slug], m.slug
        assert m.start.tzname() == ("PST" if m.start.date() < dt.date(2022, 3, 13) else "PDT")


def test_problem_sets_belong_to_their_meetings(schedule: sch.Schedule) -> None:
    assert {ps.id: list(ps.meetings) for ps in schedule.problem_sets} == EXPECTED_PROBLEM_SETS
    for ps in schedule.problem_sets:
        assert ps.release < ps.due
        assert ps.release.date() == ps.meetings[0]
        assert (ps.due.hour, ps.due.minute) == (23, 59)
        assert ps.due.tzinfo is not None


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "schedule.yml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


GOOD = """\
    timezone: America/Vancouver
    meetings:
      - {slug: 2022-02-04-a, kind: meeting, date: 2022-02-04, start: "09:00", topic: A}
    problem_sets:
      - id: ps01_a
        title: A
        meetings: [2022-02-04]
        release: "2022-02-04 09:00"
        due: "2022-02-11 23:59"
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("America/Vancouver", "Mars/Olympus", "unknown time zone"),
        ("kind: meeting", "kind: party", "kind must be one of"),
        ('start: "09:00"', 'start: "9am"', "not a time"),
        ("slug: 2022-02-04-a", "slug: 2022-02-05-a", "must start with the date"),
        ("meetings: [2022-02-04]", "meetings: [2022-02-11]", "no meeting takes place"),
        ('due: "2022-02-11 23:59"', 'due: "2022-02-01 23:59"', "must be after release"),
        ("id: ps01_a", "id: PS1", "id must look like"),
        ('start: "09:00", topic: A', 'start: "09:00"', "missing 'topic'"),
    ],
)
def test_invalid_schedules_are_refused_with_a_clear_message(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    sch.load_schedule(_write(tmp_path, GOOD))  # the unmodified file loads
    with pytest.raises(sch.ScheduleError, match=message):
        sch.load_schedule(_write(tmp_path, GOOD.replace(old, new)))


def test_a_time_inside_the_spring_forward_gap_is_refused(tmp_path: Path) -> None:
    bad = GOOD.replace("2022-02-04", "2022-03-13").replace('"09:00"', '"02:30"')
    with pytest.raises(sch.ScheduleError, match="does not exist"):
        sch.load_schedule(_write(tmp_path, bad))


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(sch.ScheduleError, match="no such schedule file"):
        sch.load_schedule(tmp_path / "nope.yml")
    with pytest.raises(sch.ScheduleError, match="not valid YAML"):
        sch.load_schedule(_write(tmp_path, "meetings: [unclosed"))


def test_toc_holds_exactly_the_pages_the_schedule_names(schedule: sch.Schedule) -> None:
    toc = toc_docnames()
    meeting_pages = [d for d in toc if d.startswith("book/meetings/")]
    assert meeting_pages == [m.docname for m in schedule.meetings if m.has_page]
    assert [d for d in toc if d.startswith("book/problem-sets/")] == [
        ps.docname for ps in schedule.problem_sets
    ]
    assert "book/conventions" in toc and "book/schedule" in toc and "book/errata" in toc
    assert list(sch.missing_pages(schedule)) == []


# --------------------------------------------------------------------------- generators


def test_schedule_markdown_lists_every_date_in_vancouver_time_and_utc(
    schedule: sch.Schedule,
) -> None:
    md = sch.schedule_markdown(schedule)
    assert "| Date | Time (Vancouver; UTC) |" in md
    assert "| Fri 18 Feb 2022 | — | *No meeting* |" in md
    assert "| Fri 28 Jan 2022 | 9:15 PST (17:15 UTC) |" in md
    assert "| Fri 18 Mar 2022 | 9:00 PDT (16:00 UTC) |" in md
    for m in schedule.dated_meetings:
        assert m.start is not None
        utc = m.start.astimezone(UTC)
        assert f"{m.start.hour}:{m.start.minute:02d} {m.start.tzname()} ({utc:%H:%M} UTC)" in md
    for m in schedule.meetings:
        if m.has_page:
            assert f"</{m.docname}>" in md


def test_meeting_header_names_time_zone_guest_and_problem_sets(schedule: sch.Schedule) -> None:
    md = sch.meeting_header_markdown(schedule, schedule.meeting("2022-02-25-rotation-averaging"))
    assert md.startswith("# 25 February 2022: ")
    assert "**Time:** 9:00 PST (17:00 UTC); times are in America/Vancouver" in md
    assert "</book/problem-sets/ps02_so3_metrics>" in md
    assert "</book/problem-sets/ps03_rotation_averaging>" in md
    for slug in ("2022-03-04-orientation-estimation", "2022-03-18-cryoai-1", "2022-03-25-cryoai-2"):
        md = sch.meeting_header_markdown(schedule, schedule.meeting(slug))
        assert "</book/problem-sets/ps04_projection_layer>" in md, slug
        assert "</book/problem-sets/ps08_pose_losses>" in md, slug
    md = sch.meeting_header_markdown(schedule, schedule.meeting("2022-04-01-hanson"))
    assert "**Guest:** Andrew Hanson" in md and "9:00 PDT (16:00 UTC)" in md
    assert "</book/problem-sets/ps06_superposition>" in md
    md = sch.meeting_header_markdown(schedule, schedule.meeting("2022-03-11-sanz-moreta"))
    assert "</book/problem-sets/ps06_superposition>" in md


def test_the_assumed_meeting_length_is_marked_as_the_books(schedule: sch.Schedule) -> None:
    # The syllabus gives start times only: the one-hour length is this book's assumption.
    for m in schedule.dated_meetings:
        assert m.duration_assumed and m.duration == dt.timedelta(hours=1), m.slug
        md = sch.meeting_header_markdown(schedule, m)
        assert not re.search(r"\d:\d\d–\d", md), f"{m.slug}: an end time shown as a fact"
        length = re.search(r'^- \*\*Length:\*\* <em class="editorial">(.+)</em>$', md, re.M)
        assert length and length[1].startswith("one hour, assumed by this book"), m.slug


def test_a_given_length_is_shown_as_start_and_end(tmp_path: Path) -> None:
    given = GOOD.replace("topic: A}", "topic: A, duration_minutes: 90}")
    sched = sch.load_schedule(_write(tmp_path, "    duration_assumed: true\n" + given))
    m = sched.dated_meetings[0]
    assert not m.duration_assumed
    md = sch.meeting_header_markdown(sched, m)
    assert "9:00–10:30 PST (17:00–18:30 UTC)" in md and "assumed" not in md
    sched = sch.load_schedule(_write(tmp_path, "    duration_assumed: true\n" + GOOD))
    md = sch.meeting_header_markdown(sched, sched.dated_meetings[0])
    assert "9:00 PST (17:00 UTC)" in md and "one hour, assumed by this book" in md
    assert "–10:00" not in md
    with pytest.raises(sch.ScheduleError, match="duration_assumed must be"):
        sch.load_schedule(_write(tmp_path, "    duration_assumed: maybe\n" + GOOD))


def test_topics_inferred_by_the_book_are_marked(schedule: sch.Schedule) -> None:
    # The syllabus names only the guest and the pre-reading for Miolane and Lederman (§4.3,
    # §4.4); Silva's and Zhong's topics are the syllabus's own (§4.5, §4.6).
    noted = {m.slug for m in schedule.meetings if m.topic_note}
    assert noted == {"upcoming-miolane", "upcoming-lederman"}
    schedule_md = sch.schedule_markdown(schedule)
    for m in schedule.meetings:
        md = sch.meeting_header_markdown(schedule, m)
        topic = re.search(r"^- \*\*Topic:\*\* (.+)$", md, re.M)
        assert topic is not None
        if m.topic_note:
            assert "inferred" in m.topic_note
            mark = f'<em class="editorial">({m.topic_note})</em>'
            assert topic[1] == f"{m.topic} {mark}"
            row = next(line for line in schedule_md.splitlines() if f"</{m.docname}>" in line)
            assert row.rstrip(" |").endswith(mark)
        else:
            assert "editorial" not in topic[1]


def test_an_upcoming_header_says_nothing_twice(schedule: sch.Schedule) -> None:
    for m in schedule.meetings:
        if m.kind != "upcoming":
            continue
        md = sch.meeting_header_markdown(schedule, m)
        assert "Upcoming meeting, not yet dated" in md
        assert f"- **When:** {m.when}\n" in md, m.slug
        assert not re.search(r"\)\s*\(", md), f"{m.slug}: two parentheses in a row"


def test_generate_book_files_rewrites_only_what_changed(
    schedule: sch.Schedule, tmp_path: Path
) -> None:
    first = sch.generate_book_files(schedule, tmp_path)
    assert len(first) == 1 + 15 + len(schedule.problem_sets)
    assert sch.generate_book_files(schedule, tmp_path) == []


def test_launch_url_is_an_nbgitpuller_link_built_from_the_config() -> None:
    cfg = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    url = sch.launch_url_from_config("ps01_x/ps01_x.ipynb", cfg)
    parts = urlsplit(url)
    hub = urlsplit(cfg["course"]["jupyterhub_url"])
    assert (parts.scheme, parts.netloc) == (hub.scheme, hub.netloc)
    assert parts.path == "/hub/user-redirect/git-pull"
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q["repo"] == cfg["course"]["release_remote"]
    assert q["branch"] == cfg["course"]["release_branch"] == sch.release_branch(cfg)
    name = cfg["course"]["release_remote"].rstrip("/").rsplit("/", 1)[-1]
    assert q["targetpath"] == name
    assert q["urlpath"] == f"lab/tree/{name}/ps01_x/ps01_x.ipynb"
    classic = sch.launch_url(
        "a.ipynb",
        jupyterhub_url="https://h.org/",
        repository_url="https://g.com/o/r.git",
        notebook_interface="classic",
    )
    assert "urlpath=tree%2Fr%2Fa.ipynb" in classic and classic.startswith("https://h.org/hub/")
    with pytest.raises(ValueError):
        sch.launch_url("a", jupyterhub_url="hub.org", repository_url="https://g.com/o/r")


# --------------------------------------------------------------------------- iCalendar


def _events(cal: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(ev["UID"]): ev for ev in cal.walk("VEVENT")}


def _check_calendar(raw: bytes, schedule: sch.Schedule) -> None:
    cal = icalendar.Calendar.from_ical(raw)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"])
    tzids = [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")]
    assert tzids == ["America/Vancouver"]
    events = _events(cal)
    assert len(events) == len(EXPECTED_UTC_STARTS) + len(EXPECTED_PROBLEM_SETS)
    for slug, start in EXPECTED_UTC_STARTS.items():
        ev = events[f"{slug}@{sch.UID_DOMAIN}"]
        dtstart = ev.decoded("DTSTART")
        assert dtstart.tzinfo is not None
        assert dtstart.astimezone(UTC) == start, slug
        assert ev["DTSTART"].params["TZID"] == "America/Vancouver"
        # The length is assumed (the syllabus gives start times only): the event ends an hour
        # after its start and its description says the length is assumed.
        assert ev.decoded("DTEND") - dtstart == dt.timedelta(hours=1)
        assert "Length: one hour, assumed by this book" in str(ev["DESCRIPTION"]), slug
        assert ev.decoded("DTSTAMP").utcoffset() == dt.timedelta(0)
        assert str(ev["SUMMARY"]).startswith("Cryo-EM study group: ")
    for ps in schedule.problem_sets:
        ev = events[f"{ps.id}-due@{sch.UID_DOMAIN}"]
        assert ev.decoded("DTSTART").astimezone(UTC) == ps.due.astimezone(UTC)
    # RFC 5545 §3.1: content lines are CRLF-terminated and folded at 75 octets.
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert lines[0] == b"BEGIN:VCALENDAR" and lines[-2] == b"END:VCALENDAR"


def test_write_ics_produces_a_valid_calendar(schedule: sch.Schedule, tmp_path: Path) -> None:
    p = sch.write_ics(schedule, tmp_path / "schedule.ics")
    _check_calendar(p.read_bytes(), schedule)


@pytest.mark.slow
def test_published_ics_matches_the_schedule(schedule: sch.Schedule) -> None:
    html = build_book()
    _check_calendar((html / "schedule.ics").read_bytes(), schedule)


# --------------------------------------------------------------------------- private data

#: Written in pieces so that this file does not match itself.
GENERIC_PRIVATE = [
    re.compile("forms" + r"\.gle", re.I),
    re.compile("pass" + "code", re.I),
    re.compile("zoom" + r"\.us", re.I),
    re.compile("meeting " + "recording", re.I),
]


def _book_sources() -> list[Path]:
    files = [REPO / "_config.yml", REPO / "_toc.yml"]
    files += sorted((REPO / "autograder" / "schedule").glob("*.py"))
    for p in sorted((REPO / "book").rglob("*")):
        if p.is_file() and "_generated" not in p.parts and p.suffix != ".pyc":
            files.append(p)
    return files


def test_private_strings_are_read_from_the_syllabus() -> None:
    if seed_file() is None:
        pytest.skip("the syllabus (shared/seed) is not beside this checkout")
    found = private_strings()
    assert any(hashlib.sha256(s.encode()).hexdigest() == PASSCODE_SHA256 for s in found)
    assert any(s.startswith("https://") for s in found)


def _assert_clean(files: list[Path]) -> None:
    specific = private_strings()
    offenders = []
    for p in files:
        text = p.read_text(encoding="utf-8", errors="replace")
        hits = [s for s in specific if s in text]
        hits += [rx.pattern for rx in GENERIC_PRIVATE if rx.search(text)]
        if hits:
            offenders.append(f"{p.relative_to(REPO)}: {len(hits)} private string(s)")
    assert not offenders, "private data from the syllabus:\n" + "\n".join(offenders)


def test_book_sources_hold_no_private_data() -> None:
    _assert_clean(_book_sources())


def test_private_data_check_can_fail(tmp_path: Path) -> None:
    bad = REPO / "book" / "_generated" / "_private_probe.md"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("Access " + "Pass" + "code: x", encoding="utf-8")
    try:
        with pytest.raises(AssertionError, match="private data"):
            _assert_clean([bad])
    finally:
        bad.unlink()


@pytest.mark.slow
def test_built_site_holds_no_private_data() -> None:
    html = build_book()
    files = [
        p
        for p in html.rglob("*")
        if p.is_file()
        and p.suffix in {".html", ".js", ".txt", ".md", ".ics", ".ipynb", ".json"}
        and "_static" not in p.parts
    ]
    assert len(files) > 30
    _assert_clean(files)
