//! The catalogues in `locales/` are compiled into the library by rust-i18n's `i18n!` macro, which cargo
//! does not know reads them: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
