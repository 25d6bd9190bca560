pub fn build_demo() {}
