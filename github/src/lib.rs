//! GitHub's REST API as openhost's git services use it, without doing any I/O.
//!
//! The host's own git service sends requests with reqwest; the enterprise plugin sends them through the host's
//! HTTP service. Both need the same paths, headers, response mapping, `Link` pagination and error mapping, so that
//! knowledge lives here once: [`GitQuery`] says what to ask, [`request_headers`] how, [`interpret`] what the answer
//! means (typed records of the plugin interface), [`call`] all three over a caller's [`Transport`], [`GitError`]
//! what went wrong in API terms, and [`Github`] is the `git_service` slot built on them, given a [`GithubAccess`]
//! that does the I/O.

mod error;
mod link;
mod query;
mod response;
mod service;
mod transport;

pub use error::GitError;
pub use link::next_page_from_link;
pub use query::{GitQuery, MAX_PER_PAGE, REPOSITORY_SORTS, check_page, repository_sort, split_repository};
pub use response::{GitData, IssueItem, interpret};
pub use service::{Github, GithubAccess};
pub use transport::{ACCEPT, API_VERSION, Answer, Transport, api_base, call, request_headers};
