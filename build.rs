//! Rebuild when embedded files change: locales (include_str!) and
//! migrations (sqlx::migrate! only notices edits to files it already saw).
fn main() {
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=migrations");
}
