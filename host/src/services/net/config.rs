//! The `[network]` table, as an app's `astra.toml` declares destinations and as the
//! operator's `[apps.<name>.network]` grants them: the same syntax at both levels, so that
//! a grant can be copied from the declaration it answers.
//!
//! ```toml
//! [network]
//! allow = ["https://api.example.com", "postgres://db.internal:5432"]
//! ```

use serde::Deserialize;

use super::policy::AllowList;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkToml {
    #[serde(default)]
    allow: Vec<String>,
}

impl NetworkToml {
    /// The checked rules; an error names the bad rule as `network.allow[i]`.
    pub fn allow_list(&self) -> Result<AllowList, String> {
        AllowList::parse(&self.allow, "network.allow")
    }
}
