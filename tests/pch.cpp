// The translation unit that builds the test binaries' shared precompiled header (tests/CMakeLists.txt).
