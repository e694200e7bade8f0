// Compile-time constants set per build in asconfig.json ("use"): 1 only in the dot-add build.
declare const RELAXED_DOT_ADD: i32;
