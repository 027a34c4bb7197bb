#include "source/snowflake/settings.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace frost::source::snowflake {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

model::error fail(const std::string& message) {
    return {model::error_code::config_error, message, {}, {}};
}

model::result<std::string> read_file(const std::string& path, const std::string& where) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return fail(where + ": cannot read " + path + " (" + ec.message() + ")");
    if (size > std::size_t{64} * 1024)
        return fail(where + ": " + path + " is larger than 64 KiB; expected a PEM key or a token");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(where + ": cannot read " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::string default_base_url(std::string_view account) {
    return config::default_snowflake_base_url(account);
}

std::string jwt_account(std::string_view account) {
    std::string_view a = account;
    if (a.find(".global") != std::string_view::npos) {
        a = a.substr(0, a.find('-'));
    } else if (auto dot = a.find('.'); dot != std::string_view::npos) {
        a = a.substr(0, dot);
    }
    return upper(a);
}

model::result<snowflake_settings> load_secrets(const std::string& source_name, snowflake_settings s) {
    auto where = [&](const char* key) {
        return "source " + source_name + ": sources." + source_name + "." + key + " (or " + s.env_prefix + upper(key) +
               ")";
    };
    if (s.auth == auth_method::key_pair && !s.private_key_path.empty()) {
        auto text = read_file(s.private_key_path, where("private_key_path"));
        if (!text) return std::move(text).error();
        s.private_key_pem = std::move(text).value();
    } else if (s.auth != auth_method::key_pair && !s.token_path.empty()) {
        auto text = read_file(s.token_path, where("token_path"));
        if (!text) return std::move(text).error();
        s.token = std::move(text).value();
        while (!s.token.empty() && std::isspace(static_cast<unsigned char>(s.token.back()))) s.token.pop_back();
        if (s.token.empty()) return fail(where("token_path") + ": " + s.token_path + " is empty");
        if (std::any_of(s.token.begin(), s.token.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; }))
            return fail(where("token_path") + ": the token in " + s.token_path +
                        " contains spaces or control characters");
    }
    return s;
}

}  // namespace frost::source::snowflake
