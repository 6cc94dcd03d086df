//! The word lists demo data is made from, kept as data files beside this
//! one (one entry a line), read once.

use std::sync::LazyLock;

fn lines(text: &'static str) -> Vec<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

macro_rules! list {
    ($name:ident, $file:literal) => {
        pub static $name: LazyLock<Vec<&'static str>> =
            LazyLock::new(|| lines(include_str!(concat!("words/", $file))));
    };
}

list!(FIRST_NAMES, "first_names.txt");
list!(LAST_NAMES, "last_names.txt");
list!(GROUP_WORDS, "group_words.txt");
list!(GROUP_PURPOSES, "group_purposes.txt");
list!(PRODUCT_SUBJECTS, "product_subjects.txt");
list!(PRODUCT_TIERS, "product_tiers.txt");
list!(PRODUCT_FEATURES, "product_features.txt");
