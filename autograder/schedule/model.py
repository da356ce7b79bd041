"""The study group's schedule: one data file, and what the book generates from it.

``book/schedule.yml`` is the one source of truth for the meetings (dates, times, time zone,
topics, guests) and the problem sets (which meetings they belong to, release and due dates).
This module loads and validates it (:func:`load_schedule`) and generates from it:

- the iCalendar feed published with the book (:func:`build_calendar`, :func:`write_ics`),
- the markdown of the schedule table, of each meeting page's header and of each problem-set
  page's header (:func:`schedule_markdown`, :func:`meeting_header_markdown`,
  :func:`problem_set_header_markdown`, all written by :func:`generate_book_files`),
- the JupyterHub launch link of a notebook (:func:`launch_url`, :func:`launch_url_from_config`),
  built from ``_config.yml`` the way Jupyter Book's own launch buttons build it (nbgitpuller).

The book build runs the generation by itself (``book/_ext/schedule_ext.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from autograder.schedule.policy import GradingPolicy, PolicyError, describe_policy, parse_policy

__all__ = [
    "BOOK_DIR",
    "COURSE_ENV",
    "DEFAULT_SCHEDULE",
    "KINDS",
    "PRODID",
    "REPO_ROOT",
    "UID_DOMAIN",
    "LatePolicy",
    "Meeting",
    "ProblemSet",
    "Schedule",
    "ScheduleError",
    "book_url",
    "build_calendar",
    "course_setting",
    "generate_book_files",
    "is_published",
    "launch_folder",
    "launch_url",
    "launch_url_from_config",
    "load_book_config",
    "load_schedule",
    "meeting_header_markdown",
    "missing_pages",
    "problem_set_header_markdown",
    "release_branch",
    "release_remote",
    "schedule_markdown",
    "write_ics",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
BOOK_DIR = REPO_ROOT / "book"
DEFAULT_SCHEDULE = BOOK_DIR / "schedule.yml"
KINDS = ("meeting", "no-meeting", "upcoming")
#: The calendar's product identifier (RFC 5545 PRODID) and the domain part of every UID.
PRODID = "-//Online cryo-EM study group//course platform//EN"
UID_DOMAIN = "cryoem-study-group"
#: How an assumed meeting length is marked (headers and calendar): the source gives start times.
ASSUMED_LENGTH_NOTE = "{length}, assumed by this book: the syllabus gives start times only"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PS_ID = re.compile(r"^ps\d\d_[a-z0-9_]+$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_LOCAL_DT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]([01]\d|2[0-3]):([0-5]\d)$")


class ScheduleError(ValueError):
    """The schedule file is missing, malformed or inconsistent; the message says where."""


@dataclass(frozen=True)
class Meeting:
    """One entry of the schedule: a dated meeting, a week without one, or an upcoming guest."""

    slug: str
    kind: str
    topic: str
    title: str
    date: dt.date | None = None
    start: dt.datetime | None = None  # aware, in the schedule's time zone
    duration: dt.timedelta = dt.timedelta(hours=1)
    guest: str | None = None
    when: str | None = None  # free text for upcoming meetings ("May/June 2022")
    #: The length is the schedule's assumption, not the source's: shown as such.
    duration_assumed: bool = False
    #: Where the topic is the book's own addition, what to say about it (shown beside it).
    topic_note: str | None = None

    @property
    def end(self) -> dt.datetime | None:
        return None if self.start is None else self.start + self.duration

    @property
    def has_page(self) -> bool:
        return self.kind in ("meeting", "upcoming")

    @property
    def docname(self) -> str:
        """The page's Sphinx document name (``book/meetings/<slug>``)."""
        return f"book/meetings/{self.slug}"


@dataclass(frozen=True)
class ProblemSet:
    """A problem set, the meetings it belongs to, and its release and due date-times."""

    id: str
    title: str
    meetings: tuple[dt.date, ...]
    release: dt.datetime  # aware
    due: dt.datetime  # aware
    summary: str = ""
    #: when the grading service releases feedback, its cap per hour (``schedule.policy``)
    grading_policy: GradingPolicy = field(default_factory=GradingPolicy)

    @property
    def number(self) -> int:
        return int(self.id[2:4])

    @property
    def label(self) -> str:
        return f"Problem set {self.number}: {self.title}"

    @property
    def docname(self) -> str:
        return f"book/problem-sets/{self.id}"

    @property
    def notebook_path(self) -> str:
        """Where the learner's notebook lives on the learners' branch (what the launch link
        opens): ``course release --due`` publishes ``release/<id>/`` there as ``<id>/``."""
        return f"{self.id}/{self.id}.ipynb"


@dataclass(frozen=True)
class LatePolicy:
    """``late_policy`` of the schedule: each started day late (after ``grace_minutes``) costs
    ``percent_per_day`` percent of the score, at most ``max_percent``."""

    percent_per_day: float = 10.0
    max_percent: float = 50.0
    grace_minutes: float = 0.0


@dataclass(frozen=True)
class Schedule:
    timezone: str
    meetings: tuple[Meeting, ...]
    problem_sets: tuple[ProblemSet, ...]
    source: Path | None = field(default=None, compare=False)
    late_policy: LatePolicy = LatePolicy()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def dated_meetings(self) -> tuple[Meeting, ...]:
        """The meetings that take place (kind ``meeting``), in date order."""
        return tuple(m for m in self.meetings if m.kind == "meeting")

    def meeting(self, slug: str) -> Meeting:
        for m in self.meetings:
            if m.slug == slug:
                return m
        raise KeyError(slug)

    def meeting_on(self, day: dt.date) -> Meeting:
        for m in self.dated_meetings:
            if m.date == day:
                return m
        raise KeyError(day.isoformat())

    def problem_sets_for(self, meeting: Meeting) -> tuple[ProblemSet, ...]:
        return tuple(ps for ps in self.problem_sets if meeting.date in ps.meetings)

    def problem_set(self, ps_id: str) -> ProblemSet:
        for ps in self.problem_sets:
            if ps.id == ps_id:
                return ps
        raise KeyError(ps_id)


# --------------------------------------------------------------------------- loading


def _req(entry: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise ScheduleError(f"{where}: missing '{key}'")
    return entry[key]


def _as_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ScheduleError(f"{where}: expected a date (YYYY-MM-DD), got a date-time {value}")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ScheduleError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _local(day: dt.date, hhmm: str, tz: ZoneInfo, where: str) -> dt.datetime:
    m = _TIME.match(str(hhmm))
    if not m:
        raise ScheduleError(f"{where}: {hhmm!r} is not a time HH:MM (24 h)")
    naive = dt.datetime(day.year, day.month, day.day, int(m[1]), int(m[2]))
    aware = naive.replace(tzinfo=tz)
    # Refuse a wall-clock time that does not exist (inside a spring-forward gap).
    back = aware.astimezone(dt.UTC).astimezone(tz)
    if back.replace(tzinfo=None) != naive:
        raise ScheduleError(f"{where}: {day} {hhmm} does not exist in {tz.key}")
    return aware


def _local_datetime(value: Any, tz: ZoneInfo, where: str) -> dt.datetime:
    m = _LOCAL_DT.match(str(value).strip())
    if not m:
        raise ScheduleError(f"{where}: {value!r} is not a local date-time 'YYYY-MM-DD HH:MM'")
    return _local(_as_date(m[1], where), f"{m[2]}:{m[3]}", tz, where)


def _parse_meeting(
    entry: Any, i: int, tz: ZoneInfo, default_duration: int, default_assumed: bool
) -> Meeting:
    where = f"meetings[{i}]"
    if not isinstance(entry, Mapping):
        raise ScheduleError(f"{where}: expected a mapping, got {type(entry).__name__}")
    slug = str(_req(entry, "slug", where))
    where = f"meetings[{i}] ({slug})"
    if not _SLUG.match(slug):
        raise ScheduleError(f"{where}: slug must be lower-case letters, digits and '-'")
    kind = str(_req(entry, "kind", where))
    if kind not in KINDS:
        raise ScheduleError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    topic = str(_req(entry, "topic", where))
    title = str(entry.get("title") or topic)
    guest = entry.get("guest")
    guest = str(guest) if guest else None
    minutes = entry.get("duration_minutes", default_duration)
    if not isinstance(minutes, int) or minutes <= 0:
        raise ScheduleError(f"{where}: duration_minutes must be a positive integer")
    duration = dt.timedelta(minutes=minutes)
    # A meeting's own duration_minutes is a given length; the file's default is assumed where
    # the file says so (duration_assumed).
    assumed = entry.get("duration_assumed", default_assumed and "duration_minutes" not in entry)
    if not isinstance(assumed, bool):
        raise ScheduleError(f"{where}: duration_assumed must be true or false")
    note = entry.get("topic_note")
    note = str(note) if note else None
    if kind == "upcoming":
        if "date" in entry:
            raise ScheduleError(f"{where}: an upcoming meeting has 'when' (free text), not 'date'")
        when = str(_req(entry, "when", where))
        return Meeting(slug, kind, topic, title, guest=guest, when=when, topic_note=note)
    day = _as_date(_req(entry, "date", where), where)
    if not slug.startswith(day.isoformat()):
        raise ScheduleError(f"{where}: slug must start with the date {day.isoformat()}")
    start = None
    if kind == "meeting":
        start = _local(day, str(_req(entry, "start", where)), tz, where)
    return Meeting(
        slug,
        kind,
        topic,
        title,
        date=day,
        start=start,
        duration=duration,
        guest=guest,
        duration_assumed=assumed,
        topic_note=note,
    )


def _parse_problem_set(
    entry: Any,
    i: int,
    tz: ZoneInfo,
    dated: dict[dt.date, Meeting],
    default_policy: GradingPolicy | None = None,
) -> ProblemSet:
    where = f"problem_sets[{i}]"
    if not isinstance(entry, Mapping):
        raise ScheduleError(f"{where}: expected a mapping, got {type(entry).__name__}")
    ps_id = str(_req(entry, "id", where))
    where = f"problem_sets[{i}] ({ps_id})"
    if not _PS_ID.match(ps_id):
        raise ScheduleError(f"{where}: id must look like 'ps01_name' (lower case)")
    raw_meetings = _req(entry, "meetings", where)
    if not isinstance(raw_meetings, list) or not raw_meetings:
        raise ScheduleError(f"{where}: 'meetings' must be a non-empty list of meeting dates")
    days = tuple(_as_date(d, where) for d in raw_meetings)
    for d in days:
        if d not in dated:
            raise ScheduleError(f"{where}: no meeting takes place on {d.isoformat()}")
    release = _local_datetime(_req(entry, "release", where), tz, f"{where} release")
    due = _local_datetime(_req(entry, "due", where), tz, f"{where} due")
    if due <= release:
        raise ScheduleError(f"{where}: due ({due}) must be after release ({release})")
    first = dated[min(days)].start
    if first is not None and release.date() < first.date():
        raise ScheduleError(f"{where}: released before its first meeting ({min(days)})")
    try:
        policy = parse_policy(entry.get("grading_policy"), where, default_policy)
    except PolicyError as exc:
        raise ScheduleError(str(exc)) from None
    return ProblemSet(
        grading_policy=policy,
        id=ps_id,
        title=str(_req(entry, "title", where)),
        meetings=days,
        release=release,
        due=due,
        summary=" ".join(str(entry.get("summary") or "").split()),
    )


def load_schedule(path: str | Path | None = None) -> Schedule:
    """Load and validate the schedule (default: ``<repo>/book/schedule.yml``).

    Raises :class:`ScheduleError` with the offending entry named when the file is missing,
    is not YAML, or breaks a rule: unknown kind, a slug that does not start with its date, an
    unknown time zone, a time that does not exist, duplicate slugs or dates, meetings out of
    order, a problem set tied to a date without a meeting, a due date before the release.
    """
    p = Path(path) if path is not None else DEFAULT_SCHEDULE
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScheduleError(f"{p}: no such schedule file") from None
    except yaml.YAMLError as exc:
        raise ScheduleError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ScheduleError(f"{p}: expected a mapping at the top level")
    tzname = str(_req(data, "timezone", str(p)))
    try:
        tz = ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{p}: unknown time zone {tzname!r}") from None
    default_duration = data.get("duration_minutes", 60)
    default_assumed = data.get("duration_assumed", False)
    if not isinstance(default_assumed, bool):
        raise ScheduleError(f"{p}: duration_assumed must be true or false")
    raw = data.get("meetings")
    if not isinstance(raw, list) or not raw:
        raise ScheduleError(f"{p}: 'meetings' must be a non-empty list")
    meetings = tuple(
        _parse_meeting(e, i, tz, default_duration, default_assumed) for i, e in enumerate(raw)
    )
    seen: set[str] = set()
    for m in meetings:
        if m.slug in seen:
            raise ScheduleError(f"{p}: duplicate slug {m.slug!r}")
        seen.add(m.slug)
    dated_all = [m for m in meetings if m.date is not None]
    days = [m.date for m in dated_all if m.date is not None]
    if len(set(days)) != len(days):
        raise ScheduleError(f"{p}: two entries share a date")
    if days != sorted(days):
        raise ScheduleError(f"{p}: dated meetings must be listed in date order")
    dated = {m.date: m for m in meetings if m.kind == "meeting" and m.date is not None}
    try:  # the default of every problem set's grading_policy (autograder.schedule.policy)
        default_policy = parse_policy(data.get("grading_policy"), str(p))
    except PolicyError as exc:
        raise ScheduleError(str(exc)) from None
    raw_ps = data.get("problem_sets") or []
    if not isinstance(raw_ps, list):
        raise ScheduleError(f"{p}: 'problem_sets' must be a list")
    problem_sets = tuple(
        _parse_problem_set(e, i, tz, dated, default_policy) for i, e in enumerate(raw_ps)
    )
    ids = [ps.id for ps in problem_sets]
    if len(set(ids)) != len(ids):
        raise ScheduleError(f"{p}: duplicate problem set id")
    return Schedule(
        timezone=tzname,
        meetings=meetings,
        problem_sets=problem_sets,
        source=p,
        late_policy=_parse_late_policy(data.get("late_policy"), str(p)),
    )


def _parse_late_policy(raw: Any, where: str) -> LatePolicy:
    if raw is None:
        return LatePolicy()
    if not isinstance(raw, Mapping):
        raise ScheduleError(f"{where}: late_policy must be a mapping")
    known = {f.name for f in fields(LatePolicy)}
    for key in raw:
        if key not in known:
            raise ScheduleError(f"{where}: unknown late_policy setting {key!r}")
    try:
        return LatePolicy(**{k: float(v) for k, v in raw.items()})
    except (TypeError, ValueError):
        raise ScheduleError(f"{where}: late_policy values must be numbers") from None


# --------------------------------------------------------------------------- iCalendar


def _plain(text: str) -> str:
    """Markdown-ish text as plain text for the calendar (no ``$`` math delimiters)."""
    return text.replace("$", "").replace("\\", "")


def build_calendar(schedule: Schedule, dtstamp: dt.datetime | None = None) -> Any:
    """The schedule as an RFC 5545 calendar (an ``icalendar.Calendar``).

    One VEVENT per dated meeting (DTSTART/DTEND with the schedule's TZID) and one per problem
    set's due date; a VTIMEZONE for every TZID used; stable UIDs; DTSTAMP in UTC. RFC 5545 has
    no way to mark a length as uncertain: where the length is assumed (``duration_assumed``),
    DTEND is the start plus the assumed length, and the DESCRIPTION says it is an assumption.
    """
    import icalendar  # imported here: only the book build and the tests need it

    if not hasattr(icalendar.Calendar, "add_missing_timezones"):
        raise RuntimeError("schedule.ics needs icalendar >= 6.1 (Calendar.add_missing_timezones)")

    stamp = (dtstamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Online cryo-EM study group 2022")
    cal.add("x-wr-timezone", schedule.timezone)
    for m in schedule.dated_meetings:
        assert m.start is not None and m.end is not None
        ev = icalendar.Event()
        ev.add("uid", f"{m.slug}@{UID_DOMAIN}")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", m.start)
        ev.add("dtend", m.end)
        summary = f"Cryo-EM study group: {_plain(m.topic)}"
        if m.guest:
            summary += f" (guest: {m.guest})"
        ev.add("summary", summary)
        pss = schedule.problem_sets_for(m)
        desc = _plain(m.title)
        if m.duration_assumed:
            desc += f"\nLength: {ASSUMED_LENGTH_NOTE.format(length=_length(m.duration))}."
        if pss:
            desc += "\nProblem sets: " + "; ".join(ps.label for ps in pss)
        ev.add("description", desc)
        ev.add("location", "Online")
        ev.add("categories", ["Meeting"])
        cal.add_component(ev)
    for ps in schedule.problem_sets:
        ev = icalendar.Event()
        ev.add("uid", f"{ps.id}-due@{UID_DOMAIN}")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", ps.due)
        ev.add("summary", f"Due: {ps.label}")
        ev.add("description", f"Released {ps.release:%Y-%m-%d %H:%M %Z}.")
        ev.add("categories", ["Problem set"])
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    cal.add_missing_timezones()
    return cal


def write_ics(schedule: Schedule, path: str | Path, dtstamp: dt.datetime | None = None) -> Path:
    """Write the schedule's calendar (:func:`build_calendar`) to ``path``; return the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(build_calendar(schedule, dtstamp).to_ical())
    return p


# --------------------------------------------------------------------------- launch links


def load_book_config(root: str | Path | None = None) -> dict[str, Any]:
    """The Jupyter Book configuration ``<root>/_config.yml`` as a dict."""
    p = Path(root or REPO_ROOT) / "_config.yml"
    data = yaml.safe_load(p.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ScheduleError(f"{p}: expected a mapping")
    return data


_UI_PREFIX = {"classic": "tree", "jupyterlab": "lab/tree"}


def launch_url(
    path_in_repo: str,
    *,
    jupyterhub_url: str,
    repository_url: str,
    branch: str = "main",
    notebook_interface: str = "jupyterlab",
) -> str:
    """The nbgitpuller link that clones/pulls the repository on the hub and opens a file.

    ``{hub}/hub/user-redirect/git-pull?repo=…&targetpath=…&urlpath=…&branch=…``: nbgitpuller
    clones into ``targetpath`` — the repository's name without ``.git`` (left to itself it would
    keep the suffix) — and opens ``urlpath``, ``lab/tree/<targetpath>/<path>`` (``tree/…`` for
    the classic interface).
    """
    hub = jupyterhub_url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", hub):
        raise ValueError(f"jupyterhub_url must be an http(s) URL, not {jupyterhub_url!r}")
    repo = repository_url.strip().rstrip("/")
    if not re.match(r"^(https?|file)://\S+", repo):
        raise ValueError(f"repository_url must be a URL, not {repository_url!r}")
    if notebook_interface not in _UI_PREFIX:
        raise ValueError(f"notebook_interface must be one of {tuple(_UI_PREFIX)}")
    name = repo.rsplit("/", 1)[-1].removesuffix(".git")
    rel = path_in_repo.strip("/")
    query = urlencode(
        {
            "repo": repo,
            "targetpath": name,
            "urlpath": f"{_UI_PREFIX[notebook_interface]}/{name}/{rel}",
            "branch": branch,
        }
    )
    return f"{hub}/hub/user-redirect/git-pull?{query}"


#: Environment variables that override ``_config.yml``'s ``course:`` settings (a local rehearsal
#: of the platform, e.g. ``scripts/dev.sh serve``, points the book at its own hub and remote).
COURSE_ENV = {
    "book_url": "COURSE_BOOK_URL",
    "jupyterhub_url": "COURSE_JUPYTERHUB_URL",
    "release_remote": "COURSE_RELEASE_REMOTE",
}


def course_setting(config: Mapping[str, Any], key: str) -> str | None:
    """``course.<key>`` of ``_config.yml``, overridden by its ``COURSE_ENV`` variable."""
    import os

    env = os.environ.get(COURSE_ENV.get(key, ""), "")
    value = env or (config.get("course") or {}).get(key)
    return str(value) if value else None


def book_url(config: Mapping[str, Any]) -> str:
    """Where the book is published (``course.book_url``), without a trailing slash."""
    url = course_setting(config, "book_url")
    if not url:
        raise ScheduleError("_config.yml needs course.book_url")
    return url.rstrip("/")


def release_remote(config: Mapping[str, Any]) -> str | None:
    """The learners' repository: ``course.release_remote`` (default ``repository.url``)."""
    return course_setting(config, "release_remote") or (config.get("repository") or {}).get("url")


def launch_folder(config: Mapping[str, Any]) -> str:
    """The folder of a learner's home the launch links pull into: the learners' repository's
    name (nbgitpuller's ``targetpath``)."""
    remote = release_remote(config) or "problem-sets"
    return remote.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")


def launch_url_from_config(path_in_repo: str, config: Mapping[str, Any] | None = None) -> str:
    """:func:`launch_url` with the hub, repository and branch from ``_config.yml``
    (``course.jupyterhub_url``, ``course.notebook_interface``, and the learners' repository and
    branch, ``course.release_remote`` (default ``repository.url``) and ``course.release_branch``
    (default ``releases``), where ``course release --due`` publishes the problem sets)."""
    cfg = load_book_config() if config is None else config
    course = cfg.get("course") or {}
    hub = course_setting(cfg, "jupyterhub_url")
    repo_url = release_remote(cfg)
    if not hub or not repo_url:
        raise ScheduleError("_config.yml needs course.jupyterhub_url and course.release_remote")
    return launch_url(
        path_in_repo,
        jupyterhub_url=hub,
        repository_url=str(repo_url),
        branch=release_branch(cfg),
        notebook_interface=str(course.get("notebook_interface") or "jupyterlab"),
    )


def release_branch(config: Mapping[str, Any]) -> str:
    """The learners' branch (``course.release_branch`` in ``_config.yml``; ``releases``)."""
    return str((config.get("course") or {}).get("release_branch") or "releases")


def is_published(
    path_in_repo: str, config: Mapping[str, Any], root: str | Path | None = None
) -> bool:
    """Whether ``path_in_repo`` is on the learners' branch of the repository at ``root``
    (its local branch, or ``origin``'s); False where git or the branch is missing."""
    import subprocess

    branch = release_branch(config)
    places = [(Path(root or REPO_ROOT), branch), (Path(root or REPO_ROOT), f"origin/{branch}")]
    remote = release_remote(config) or ""
    if remote.startswith("file://") or remote.startswith("/"):  # a local learners' repository
        places.append((Path(remote.removeprefix("file://")), branch))
    for where, ref in places:
        try:
            proc = subprocess.run(
                ["git", "cat-file", "-e", f"{ref}:{path_in_repo}"],
                cwd=where,
                capture_output=True,
                timeout=10,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0:
            return True
    return False


# --------------------------------------------------------------------------- markdown


def _day(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def _short_day(d: dt.date) -> str:
    return f"{d:%a} {d.day} {d:%b %Y}"


def _clock(t: dt.datetime) -> str:
    return f"{t.hour}:{t.minute:02d}"


def _time_range(m: Meeting) -> str:
    """Start and end, local and UTC, where the length is given; the start only where the
    length is assumed (the header then says so on a line of its own)."""
    assert m.start is not None and m.end is not None
    s_utc, e_utc = m.start.astimezone(dt.UTC), m.end.astimezone(dt.UTC)
    if m.duration_assumed:
        return f"{_clock(m.start)} {m.start.tzname()} ({_clock(s_utc)} UTC)"
    return (
        f"{_clock(m.start)}–{_clock(m.end)} {m.start.tzname()} "
        f"({_clock(s_utc)}–{_clock(e_utc)} UTC)"
    )


def _length(d: dt.timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return "one hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def _editorial(text: str, parentheses: bool = True) -> str:
    """The book's own addition, marked as such (class ``editorial``)."""
    return f'<em class="editorial">{f"({text})" if parentheses else text}</em>'


def _topic(m: Meeting, text: str | None = None) -> str:
    topic = text if text is not None else m.topic
    return f"{topic} {_editorial(m.topic_note)}" if m.topic_note else topic


def _local_stamp(t: dt.datetime) -> str:
    return f"{_short_day(t.date())}, {_clock(t)} {t.tzname()}"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _ps_link(ps: ProblemSet) -> str:
    return f"{{doc}}`{ps.label} </{ps.docname}>`"


def _meeting_link(m: Meeting, text: str | None = None) -> str:
    return f"{{doc}}`{text or m.title} </{m.docname}>`"


def meeting_title(m: Meeting) -> str:
    if m.date is not None:
        return f"{m.date.day} {m.date:%B %Y}: {m.title}"
    return m.title


def schedule_markdown(schedule: Schedule) -> str:
    """The schedule page's tables: the dated meetings (with the no-meeting week) and the
    upcoming guests."""
    lines = [
        "| Date | Time (Vancouver; UTC) | Topic | Guest | Problem set |",
        "|---|---|---|---|---|",
    ]
    for m in schedule.meetings:
        if m.kind == "upcoming" or m.date is None:
            continue
        if m.kind == "no-meeting":
            lines.append(f"| {_short_day(m.date)} | — | *{_md_cell(m.topic)}* | | |")
            continue
        assert m.start is not None
        pss = ", ".join(_ps_link(ps) for ps in schedule.problem_sets_for(m))
        utc = m.start.astimezone(dt.UTC)
        lines.append(
            f"| {_short_day(m.date)} | {_clock(m.start)} {m.start.tzname()} ({_clock(utc)} UTC) "
            f"| {_topic(m, _meeting_link(m, _md_cell(m.topic)))} | {_md_cell(m.guest or '')} "
            f"| {pss} |"
        )
    lines += ["", "Upcoming guests, not yet dated:", ""]
    lines += ["| When | Guest | Topic |", "|---|---|---|"]
    for m in schedule.meetings:
        if m.kind == "upcoming":
            lines.append(
                f"| {_md_cell(m.when or '')} | {_md_cell(m.guest or '')} "
                f"| {_topic(m, _meeting_link(m, _md_cell(m.topic)))} |"
            )
    lines += ["", "Problem sets:", ""]
    lines += [
        "| Problem set | Meetings | Released | Due |",
        "|---|---|---|---|",
    ]
    for ps in schedule.problem_sets:
        ms = ", ".join(_meeting_link(schedule.meeting_on(d), _short_day(d)) for d in ps.meetings)
        lines.append(
            f"| {_ps_link(ps)} | {ms} | {_local_stamp(ps.release)} | {_local_stamp(ps.due)} |"
        )
    return "\n".join(lines) + "\n"


def meeting_header_markdown(schedule: Schedule, m: Meeting) -> str:
    """A meeting page's title and header box: date, time with its time zone (and its length,
    marked where it is assumed), topic (marked where it is the book's), guest and the problem
    sets that belong to the meeting. An upcoming meeting's box is titled so; its "when" is the
    source's own words."""
    box = "Upcoming meeting, not yet dated" if m.kind == "upcoming" else "Meeting"
    out = [f"# {meeting_title(m)}", "", f":::{{admonition}} {box}", ":class: meeting-header", ""]
    if m.kind == "meeting":
        assert m.date is not None
        out.append(f"- **Date:** {_day(m.date)}")
        out.append(f"- **Time:** {_time_range(m)}; times are in {schedule.timezone}")
        if m.duration_assumed:
            note = ASSUMED_LENGTH_NOTE.format(length=_length(m.duration))
            out.append(f"- **Length:** {_editorial(note, parentheses=False)}")
    elif m.kind == "upcoming":
        out.append(f"- **When:** {m.when}")
    out.append(f"- **Topic:** {_topic(m)}")
    if m.guest:
        out.append(f"- **Guest:** {m.guest}")
    pss = schedule.problem_sets_for(m) if m.kind == "meeting" else ()
    if pss:
        out.append("- **Problem set:** " + "; ".join(_ps_link(ps) for ps in pss))
    out += [":::", ""]
    return "\n".join(out)


def problem_set_header_markdown(
    schedule: Schedule, ps: ProblemSet, url: str, published: bool
) -> str:
    """A problem-set page's title and header box: meetings, release and due date, and the
    JupyterHub launch link (marked as a placeholder while the notebook is not published)."""
    meetings = ", ".join(
        _meeting_link(schedule.meeting_on(d), meeting_title(schedule.meeting_on(d)))
        for d in ps.meetings
    )
    out = [
        f"# {ps.label}",
        "",
        ":::{admonition} Problem set",
        ":class: problem-set-header",
        "",
        f"- **Belongs to:** {meetings}",
        f"- **Released:** {_local_stamp(ps.release)}",
        f"- **Due:** {_local_stamp(ps.due)} ({schedule.timezone})",
        f"- **Feedback:** {describe_policy(ps.grading_policy)}",
    ]
    if published:
        out.append(f'- **Launch:** <a class="launch-link" href="{url}">open on JupyterHub</a>')
    else:
        out.append(
            f'- **Launch:** <a class="launch-link launch-placeholder" href="{url}">'
            "open on JupyterHub</a> (placeholder: the notebook is not published yet, so this "
            "link opens an empty folder until it is)"
        )
    out += [":::", ""]
    if ps.summary:
        out += [ps.summary, ""]
    return "\n".join(out)


def _write_if_changed(path: Path, text: str, written: list[Path]) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written.append(path)


def generate_book_files(
    schedule: Schedule,
    out_dir: str | Path,
    root: str | Path | None = None,
    config: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write the generated markdown under ``out_dir`` (``book/_generated``):
    ``schedule.md``, ``meetings/<slug>.md`` and ``problem-sets/<id>.md``.

    A file is rewritten only when its content changes, so Sphinx re-reads only the pages whose
    header changed. Returns the files written.
    """
    out = Path(out_dir)
    base = Path(root or REPO_ROOT)
    cfg = load_book_config(base) if config is None else config
    written: list[Path] = []
    _write_if_changed(out / "schedule.md", schedule_markdown(schedule), written)
    for m in schedule.meetings:
        if m.has_page:
            _write_if_changed(
                out / "meetings" / f"{m.slug}.md", meeting_header_markdown(schedule, m), written
            )
    for ps in schedule.problem_sets:
        url = launch_url_from_config(ps.notebook_path, cfg)
        published = is_published(ps.notebook_path, cfg, base)
        _write_if_changed(
            out / "problem-sets" / f"{ps.id}.md",
            problem_set_header_markdown(schedule, ps, url, published),
            written,
        )
    return written


def missing_pages(schedule: Schedule, root: str | Path | None = None) -> Iterable[str]:
    """Source pages the schedule expects but the book lacks (docnames)."""
    base = Path(root or REPO_ROOT)
    for m in schedule.meetings:
        if m.has_page and not (base / f"{m.docname}.md").is_file():
            yield m.docname
    for ps in schedule.problem_sets:
        if not (base / f"{ps.docname}.md").is_file():
            yield ps.docname
