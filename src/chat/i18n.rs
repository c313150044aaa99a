//! Localized strings from `locales/*.toml`, embedded at build time. Every
//! lookup names the locale explicitly; there is no process-wide language.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::domain::Locale;

type Catalog = HashMap<String, String>;

fn parse(name: &str, src: &str) -> Catalog {
    // The files are part of the build and checked by tests; a broken file is
    // a programming error caught before release, so failing loudly is right.
    toml::from_str(src).unwrap_or_else(|e| panic!("locales/{name}.toml is invalid: {e}"))
}

static EN: LazyLock<Catalog> = LazyLock::new(|| parse("en", include_str!("../../locales/en.toml")));
static ES: LazyLock<Catalog> = LazyLock::new(|| parse("es", include_str!("../../locales/es.toml")));

fn catalog(locale: Locale) -> &'static Catalog {
    match locale {
        Locale::En => &EN,
        Locale::Es => &ES,
    }
}

/// The keys of a locale, for parity checks.
#[must_use]
pub fn keys(locale: Locale) -> Vec<&'static str> {
    let mut k: Vec<&str> = catalog(locale).keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// Looks up `key` in `locale` (falling back to English, then to the key
/// itself) and substitutes `{name}` placeholders.
#[must_use]
pub fn t(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let template = catalog(locale)
        .get(key)
        .or_else(|| EN.get(key))
        .map_or(key, String::as_str);
    let mut out = template.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_locale_has_the_same_keys() {
        let en = keys(Locale::En);
        assert!(en.len() > 40);
        for l in Locale::ALL {
            assert_eq!(keys(l), en, "locale {} differs from en", l.code());
        }
    }

    #[test]
    fn placeholders_match_across_locales() {
        let re = |s: &str| {
            let mut names: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                .collect();
            names.sort();
            names.dedup();
            names
        };
        for key in keys(Locale::En) {
            let en = re(&EN[key]);
            for l in Locale::ALL {
                assert_eq!(re(&catalog(l)[key]), en, "{key} in {}", l.code());
            }
        }
    }

    #[test]
    fn substitutes_and_falls_back() {
        assert_eq!(
            t(Locale::Es, "list.header", &[("count", "2")]),
            "Sigues 2 billetera(s):"
        );
        assert_eq!(t(Locale::En, "no.such.key", &[]), "no.such.key");
    }
}
