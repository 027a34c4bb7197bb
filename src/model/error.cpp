#include "model/error.hpp"

namespace frost::model {

namespace {
struct entry {
    std::string_view name;
    int status;
};

constexpr entry describe(error_code code) noexcept {
    switch (code) {
        case error_code::not_found:
            return {"FR404", 404};
        case error_code::method_not_allowed:
            return {"FR405", 405};
        case error_code::bad_parameter:
            return {"FR400", 400};
        case error_code::unknown_parameter:
            return {"FR401", 400};
        case error_code::missing_parameter:
            return {"FR402", 400};
        case error_code::bad_request:
            return {"FR430", 400};
        case error_code::payload_too_large:
            return {"FR413", 413};
        case error_code::uri_too_long:
            return {"FR414", 414};
        case error_code::headers_too_large:
            return {"FR431", 431};
        case error_code::unauthorized:
            return {"FR301", 401};
        case error_code::forbidden:
            return {"FR302", 403};
        case error_code::rate_limited:
            return {"FR329", 429};
        case error_code::not_acceptable:
            return {"FR406", 406};
        case error_code::source_error:
            return {"FR502", 502};
        case error_code::source_unavailable:
            return {"FR503", 503};
        case error_code::overloaded:
            return {"FR504", 503};
        case error_code::timeout:
            return {"FR505", 504};
        case error_code::result_too_large:
            return {"FR507", 502};
        case error_code::config_error:
            return {"FR900", 500};
        case error_code::internal:
            return {"FR500", 500};
    }
    return {"FR500", 500};
}
}  // namespace

std::string_view code_name(error_code code) noexcept {
    return describe(code).name;
}
int http_status(error_code code) noexcept {
    return describe(code).status;
}

std::string_view generic_message(error_code code) noexcept {
    switch (code) {
        case error_code::source_error:
            return "the data source could not answer this request";
        case error_code::source_unavailable:
            return "the data source is unavailable; try again shortly";
        case error_code::overloaded:
            return "the server is busy; try again shortly";
        case error_code::timeout:
            return "the query did not finish within the request's deadline";
        case error_code::result_too_large:
            return "the answer has more rows than this endpoint may return";
        case error_code::config_error:
        case error_code::internal:
            return "internal error";
        default:
            return {};
    }
}

}  // namespace frost::model
