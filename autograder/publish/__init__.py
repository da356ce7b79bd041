"""Publishing to learners: nbgrader's exchange, the release branch the book's launch links pull
from, and the book itself (instructor side; ``exchange.submit``/``fetch_feedback`` are the
learner's)."""

from autograder.publish.book import build_book, html_dir, serve_directory
from autograder.publish.exchange import (
    ExchangeError,
    collect,
    exchange_release,
    fetch_feedback,
    release_feedback,
    submit,
)
from autograder.publish.releases import (
    PublishError,
    ReleaseTarget,
    publish_book,
    publish_releases,
    release_due,
    release_target,
)

__all__ = [
    "ExchangeError",
    "PublishError",
    "ReleaseTarget",
    "build_book",
    "collect",
    "exchange_release",
    "fetch_feedback",
    "html_dir",
    "publish_book",
    "publish_releases",
    "release_due",
    "release_feedback",
    "release_target",
    "serve_directory",
    "submit",
]
