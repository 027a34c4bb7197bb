// config/yaml.hpp against an independent oracle: yaml-cpp, the parser the config loader used
// before, reads the same text and both trees must agree node for node (kinds, texts, key order,
// plain vs quoted, positions), over the repository's YAML files and random documents written by
// yaml-cpp's emitter in block and flow styles. Then what the parser rejects and yaml-cpp did not.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "config/yaml.hpp"

namespace frost::config {
namespace {

// yaml-cpp's column counts bytes, the parser's characters; the position is a byte offset in both.
int char_column(std::string_view text, const YAML::Mark& m) {
    const auto pos = static_cast<std::size_t>(m.pos);
    const auto line_start = text.rfind('\n', pos == 0 ? 0 : pos - 1);
    int column = 0;
    for (auto i = line_start == std::string_view::npos ? 0 : line_start + 1; i < pos; ++i)
        if ((static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U) ++column;
    return column;
}

void expect_same(std::string_view text, const YAML::Node& want, const yaml::node& got, const std::string& at) {
    ASSERT_TRUE(got) << at;
    switch (want.Type()) {
        case YAML::NodeType::Null:
            EXPECT_TRUE(got.is_null()) << at;
            return;
        case YAML::NodeType::Scalar:
            ASSERT_TRUE(got.is_scalar()) << at;
            EXPECT_EQ(got.scalar(), want.Scalar()) << at;
            EXPECT_EQ(got.plain(), want.Tag() == "?") << at << ": tag " << want.Tag();
            break;
        case YAML::NodeType::Sequence:
            ASSERT_TRUE(got.is_sequence()) << at;
            ASSERT_EQ(got.size(), want.size()) << at;
            for (std::size_t i = 0; i < want.size(); ++i)
                expect_same(text, want[i], got[i], at + "[" + std::to_string(i) + "]");
            break;
        case YAML::NodeType::Map: {
            ASSERT_TRUE(got.is_map()) << at;
            ASSERT_EQ(got.size(), want.size()) << at;
            std::size_t i = 0;
            for (const auto& kv : want) {
                const auto& e = got.entries()[i++];
                EXPECT_EQ(e.first.scalar(), kv.first.Scalar()) << at;
                expect_same(text, kv.second, e.second, at + "." + kv.first.Scalar());
            }
            break;
        }
        case YAML::NodeType::Undefined:
            FAIL() << at << ": undefined in yaml-cpp";
            return;
    }
    EXPECT_EQ(got.where().line, want.Mark().line) << at;
    EXPECT_EQ(got.where().column, char_column(text, want.Mark())) << at;
    EXPECT_EQ(got.where().pos, static_cast<std::size_t>(want.Mark().pos)) << at;
}

void expect_same_parse(const std::string& text, const std::string& name) {
    YAML::Node want;
    try {
        want = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        FAIL() << name << ": yaml-cpp rejects it: " << e.what() << "\n" << text;
    }
    yaml::node got;
    try {
        got = yaml::parse(text);
    } catch (const yaml::parse_error& e) {
        FAIL() << name << ": rejected at " << e.where.line + 1 << ":" << e.where.column + 1 << ": " << e.what() << "\n"
               << text;
    }
    expect_same(text, want, got, name);
}

TEST(yaml, agrees_with_yaml_cpp_on_the_repository_yaml_files) {
    const std::filesystem::path root(FROST_SOURCE_DIR);
    std::size_t files = 0;
    for (const char* dir : {"config", "deploy", "tests", "docs"}) {
        for (const auto& f : std::filesystem::recursive_directory_iterator(root / dir)) {
            const auto ext = f.path().extension();
            if (!f.is_regular_file() || (ext != ".yaml" && ext != ".yml")) continue;
            if (f.path().string().find("/corpus/") != std::string::npos) continue;  // malformed on purpose
            std::ifstream in(f.path(), std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            expect_same_parse(text.str(), f.path().lexically_relative(root).string());
            ++files;
        }
    }
    EXPECT_GE(files, 3U);
}

// Texts that need quoting, folding or escaping, or that YAML would type.
const std::vector<std::string> scalars = {
    "a",
    "hello world",
    "42",
    "-3.5",
    "1e3",
    "0x1F",
    "true",
    "no",
    "null",
    "~",
    "",
    " ",
    "a: b",
    "- x",
    "#c",
    "x #c",
    "multi\nline\ntext\n",
    "line\n",
    "  leading",
    "trailing  ",
    "quote\"d",
    "it's",
    "tab\there",
    "unicode é ✓",
    "[x]",
    "{y}",
    "&a",
    "*b",
    "!t",
    "%d",
    "@",
    "`",
    "key:",
    "?",
    "|",
    ">",
    ",",
    "a,b",
    "select sum(n) from t where day between $start and $end",
    "back\\slash",
    "\x01ctl",
    "2024-01-31",
    std::string(300, 'z'),
    "long text that goes on and on past any line width the emitter might use, and on"};

YAML::Node random_node(std::mt19937& rng, int depth) {
    const int pick = static_cast<int>(rng() % (depth >= 4 ? 3 : 6));
    if (pick == 0) return YAML::Node(YAML::NodeType::Null);
    if (pick <= 2) return YAML::Node(scalars[rng() % scalars.size()]);
    YAML::Node n;
    const std::size_t count = rng() % 5;
    if (pick <= 3) {
        n = YAML::Node(YAML::NodeType::Sequence);
        for (std::size_t i = 0; i < count; ++i) n.push_back(random_node(rng, depth + 1));
    } else {
        n = YAML::Node(YAML::NodeType::Map);
        for (std::size_t i = 0; i < count; ++i) {
            // Keys are unique texts: the parser rejects a repeated key, yaml-cpp keeps both.
            const auto key = scalars[rng() % scalars.size()] + "_" + std::to_string(i);
            n[key] = random_node(rng, depth + 1);
        }
    }
    if (rng() % 3 == 0) n.SetStyle(YAML::EmitterStyle::Flow);
    return n;
}

TEST(yaml, agrees_with_yaml_cpp_on_random_documents) {
    std::mt19937 rng(20261202);
    for (int round = 0; round < 600; ++round) {
        YAML::Node doc(YAML::NodeType::Map);
        const std::size_t keys = 1 + rng() % 6;
        for (std::size_t i = 0; i < keys; ++i) doc["k" + std::to_string(i)] = random_node(rng, 0);
        if (rng() % 4 == 0) doc.SetStyle(YAML::EmitterStyle::Flow);
        YAML::Emitter out;
        out << doc;
        ASSERT_TRUE(out.good()) << out.GetLastError();
        expect_same_parse(out.c_str(), "round " + std::to_string(round));
        if (HasFatalFailure() || HasNonfatalFailure()) break;
    }
}

TEST(yaml, hand_written_shapes_agree) {
    for (const char* text : {
             "a: 1\nb:\n  - x\n  - 'y'\n  - \"z\"\n",
             "sql: |\n  select 1\n  from t\nfolded: >\n  one\n  two\n\n  three\nkeep: |+\n  k\n\n",
             "strip: |-\n  s\nindent: |2\n    two more\n",
             "flow: {a: [1, 2, {b: c}], d: ~}\n",
             "anchors: &x {p: 1}\nuse: *x\nlist: [&y v, *y]\n",
             "tagged: !!str 42\ncustom: !Ref thing\nnull_tag: !!str null\n",
             "empty:\nnull_word: null\ntilde: ~\n",
             "# only a comment\nkey: value # trailing\n",
             "---\ndoc: one\n...\n---\ndoc: two\n",
             "multi: this is\n  a folded\n  plain scalar\n",
             "esc: \"a\\tb\\u00e9\\n\"\nsingle: 'it''s'\n",
             "? explicit\n: key\n",
         })
        expect_same_parse(text, text);
}

yaml::parse_error rejected(const std::string& text) {
    try {
        (void)yaml::parse(text);
    } catch (const yaml::parse_error& e) {
        return e;
    }
    ADD_FAILURE() << "accepted: " << text;
    return {"", {}};
}

TEST(yaml, rejects_what_a_config_cannot_mean_with_its_position) {
    auto e = rejected("a: 1\nb: 2\na: 3\n");
    EXPECT_STREQ(e.what(), "the key \"a\" is given twice");
    EXPECT_EQ(e.where.line, 2);
    EXPECT_EQ(e.where.column, 0);
    // Past 16 keys the check is a hash set: a repeat of an early key, a late one, the one just read.
    std::string many;
    for (int i = 0; i < 40; ++i) many += "k" + std::to_string(i) + ": v\n";
    for (const char* repeat : {"k3", "k20", "k39"}) {
        e = rejected(many + repeat + ": again\n");
        EXPECT_EQ(std::string(e.what()), "the key \"" + std::string(repeat) + "\" is given twice");
        EXPECT_EQ(e.where.line, 40);
    }
    EXPECT_EQ(yaml::parse(many + "k40: new\n").size(), 41U);
    e = rejected("? [a, b]\n: c\n");
    EXPECT_STREQ(e.what(), "a key must be a text value");
    e = rejected("a: *missing\n");
    EXPECT_STREQ(e.what(), "unknown alias *missing");
    EXPECT_EQ(e.where.line, 0);
    EXPECT_EQ(e.where.column, 3);
    // An unclosed flow collection is named where it opens, and where the parser gave up.
    e = rejected("a: [1, 2\nb: 3\n");
    EXPECT_EQ(e.where.line, 0) << e.what();
    EXPECT_EQ(e.where.column, 3) << e.what();
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    e = rejected("endpoints: [");
    EXPECT_EQ(e.where.line, 0) << e.what();
    EXPECT_EQ(e.where.column, 11) << e.what();
    EXPECT_NE(std::string(e.what()).find("not closed"), std::string::npos) << e.what();
    e = rejected("a:\n\tb: 1\n");
    EXPECT_EQ(e.where.line, 1) << e.what();
}

TEST(yaml, bounds_depth_and_alias_expansion) {
    EXPECT_NO_THROW((void)yaml::parse(std::string(100, '[') + std::string(100, ']')));
    auto e = rejected(std::string(200, '[') + std::string(200, ']'));
    EXPECT_STREQ(e.what(), "nested deeper than 128 levels");
    // "Billion laughs": each level doubles the previous; 2^30 nodes expanded.
    std::string laughs = "l0: &l0 [x, x]\n";
    for (int i = 1; i <= 30; ++i)
        laughs += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) + ", *l" +
                  std::to_string(i - 1) + "]\n";
    e = rejected(laughs);
    EXPECT_STREQ(e.what(), "more than 1000000 nodes with aliases expanded");
    // Each node counts once however deep it lies: 15,000 items 100 levels down are 15,100 nodes.
    std::string deep = std::string(99, '[') + "[";
    for (int i = 0; i < 15'000; ++i) deep += i == 0 ? "x" : ", x";
    deep += std::string(100, ']');
    const auto parsed = yaml::parse(deep);
    auto inner = parsed;
    for (int level = 1; level < 100; ++level) inner = inner[std::size_t{0}];
    EXPECT_EQ(inner.size(), 15'000U);
}

TEST(yaml, reads_the_first_document_and_an_empty_text_as_null) {
    const auto doc = yaml::parse("a: 1\n---\nb: [\n");
    ASSERT_TRUE(doc.is_map());
    EXPECT_EQ(doc["a"].scalar(), "1");
    EXPECT_FALSE(doc["b"]);
    EXPECT_TRUE(yaml::parse("").is_null());
    EXPECT_TRUE(yaml::parse("---\n...\n---\na: 1\n").is_null()) << "an empty first document";
    EXPECT_TRUE(yaml::parse("# nothing\n").is_null());
}

TEST(yaml, lookups_off_the_tree_are_undefined_not_errors) {
    const auto doc = yaml::parse("s: text\nl: [a]\nm: {k: v}\n");
    EXPECT_FALSE(doc["s"]["k"]);
    EXPECT_FALSE(doc["s"][std::size_t{0}]);
    EXPECT_FALSE(doc["l"][std::size_t{1}]);
    EXPECT_FALSE(doc["m"][std::size_t{0}]);
    EXPECT_FALSE(doc["missing"]["deeper"]);
    EXPECT_EQ(doc["missing"].where().line, -1);
    EXPECT_EQ(doc["l"][std::size_t{0}].scalar(), "a");
    EXPECT_EQ(doc["m"]["k"].scalar(), "v");
    // A key is text even where a value would be null (yaml-cpp made it a null node).
    const auto nulls = yaml::parse("null: ~\n~: x\n");
    EXPECT_TRUE(nulls["null"].is_null());
    EXPECT_EQ(nulls["~"].scalar(), "x");
}

TEST(yaml, positions_count_characters_and_bytes) {
    const std::string text = "\xc3\xa9: \xe2\x9c\x93\nb: |\n  x\n";  // "é: ✓", then a block scalar
    const auto doc = yaml::parse(text);
    const auto check = doc["\xc3\xa9"].where();
    EXPECT_EQ(check.line, 0);
    EXPECT_EQ(check.column, 3);
    EXPECT_EQ(check.pos, 4U);
    EXPECT_EQ(doc["b"].where().pos, text.find('|'));
    EXPECT_EQ(doc["b"].where().line, 1);
}

}  // namespace
}  // namespace frost::config
