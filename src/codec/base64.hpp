#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace frost::codec {

/// Which 64 characters encode the values 62 and 63 (RFC 4648 §4 and §5).
enum class base64_alphabet {
    standard,  ///< `+` and `/` (MIME, Lambda bodies, key fingerprints)
    url,       ///< `-` and `_` (JWS/JWT, RFC 7515 §2)
};

/// What the decoder accepts at the end, and what the encoder writes there.
enum class base64_padding {
    required,   ///< `=` up to a multiple of 4 characters
    optional,   ///< either form (decoder only; the encoder pads)
    forbidden,  ///< no `=` at all (base64url in JWS)
};

/// `bytes` in base64 of `alphabet`, padded unless `padding` is `forbidden`. Pure; thread-safe.
[[nodiscard]] std::string base64_encode(std::string_view bytes, base64_alphabet alphabet = base64_alphabet::standard,
                                        base64_padding padding = base64_padding::required);

/// Decodes base64 strictly: only characters of `alphabet`, no whitespace or line breaks,
/// padding as `padding` says (when present it must complete a multiple of 4), no length of
/// 4n+1, and the unused low bits of the last character must be zero, so every byte string has
/// exactly one accepted encoding. nullopt on anything else. Pure; thread-safe.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text,
                                                       base64_alphabet alphabet = base64_alphabet::standard,
                                                       base64_padding padding = base64_padding::required);

}  // namespace frost::codec
