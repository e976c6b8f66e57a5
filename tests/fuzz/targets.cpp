// Fuzz target bodies. Each must never crash, hang or leak on any input; where a decode succeeds
// it also checks an invariant (re-encoding decodes to the same value) and traps if it fails.
#include "targets.hpp"

#include <tablemigrator/wire/frame.hpp>
#include <tablemigrator/wire/message.hpp>
#include <tablemigrator/wire/types.hpp>

#include <array>
#include <cstdlib>

namespace tablemigrator::fuzz {
namespace {

namespace idl = tablemigrator::idl;
using namespace tablemigrator::wire;

[[noreturn]] void invariant_failed() {
    std::abort();
}

// Splits the input into chunks whose sizes come from the input itself, so the fuzzer explores
// how frames straddle reads (1-byte chunks included).
template <class Decoder, class OnFrame>
void feed_in_chunks(Decoder& d, std::span<const std::uint8_t> in, OnFrame on_frame) {
    if (in.empty())
        return;
    const std::size_t step = 1 + (in[0] % 64);
    in = in.subspan(1);
    std::size_t pos = 0;
    int frames = 0;
    while (pos < in.size()) {
        const std::size_t n = std::min(step, in.size() - pos);
        d.feed(in.subspan(pos, n));
        pos += n;
        while (auto f = d.next()) {
            if (!*f)
                return; // sticky: the connection would be dropped
            on_frame(**f);
            if (++frames > 4096)
                return;
        }
    }
}

// A decoded value must survive encode -> decode unchanged.
template <class T>
void check_round_trip(const T& v) {
    const auto b = serialize_struct(v);
    auto again = deserialize_struct<T>(b);
    if (!again || !(*again == v))
        invariant_failed();
}

template <class T>
void try_reply(const response_frame& f) {
    if (auto r = decode_reply<T>(f))
        check_round_trip(*r);
}

template <class T>
void try_args(const request_frame& f) {
    if (auto r = decode_call_args<T>(f))
        check_round_trip(*r);
}

int response_decoder_target(const std::uint8_t* data, std::size_t size) {
    response_decoder d(1u << 20);
    feed_in_chunks(d, std::span(data, size), [](const response_frame& f) {
        // Non-OK frames carry no payload; names are bounded by the decoder.
        if ((f.frame_error && !f.payload.empty()) || f.name.size() > 255)
            invariant_failed();
        (void)decode_string_reply(f);
        try_reply<idl::query_cfg_response>(f);
        try_reply<idl::update_response>(f);
    });
    return 0;
}

int request_decoder_target(const std::uint8_t* data, std::size_t size) {
    request_decoder d(1u << 20);
    feed_in_chunks(d, std::span(data, size), [](const request_frame& f) {
        if (f.args_offset > f.body.size())
            invariant_failed();
        (void)decode_call_i64(f);
        try_args<idl::query_cfg_request>(f);
        try_args<idl::command>(f);
        try_args<idl::update_request>(f);
        try_args<idl::blob>(f);
    });
    return 0;
}

// Typed decoders: the input is the reply payload (result wrapper) of an ERR_OK frame.
response_frame ok_frame(const std::uint8_t* data, std::size_t size) {
    response_frame f;
    f.error_name = "ERR_OK";
    f.name = "X_ACK";
    f.payload.assign(data, data + size);
    return f;
}

template <class T>
int typed_reply_target(const std::uint8_t* data, std::size_t size) {
    try_reply<T>(ok_frame(data, size));
    return 0;
}

int string_reply_target(const std::uint8_t* data, std::size_t size) {
    const auto f = ok_frame(data, size);
    if (auto s = decode_string_reply(f); s && s->size() > size)
        invariant_failed();
    return 0;
}

constexpr std::array<target, 14> targets = {{
    {"response_decoder", &response_decoder_target},
    {"request_decoder", &request_decoder_target},
    {"string_reply", &string_reply_target},
    {"reply_query_cfg", &typed_reply_target<idl::query_cfg_response>},
    {"reply_cluster_info", &typed_reply_target<idl::configuration_cluster_info_response>},
    {"reply_list_nodes", &typed_reply_target<idl::configuration_list_nodes_response>},
    {"reply_list_apps", &typed_reply_target<idl::configuration_list_apps_response>},
    {"reply_update_app_env", &typed_reply_target<idl::configuration_update_app_env_response>},
    {"reply_add_duplication", &typed_reply_target<idl::duplication_add_response>},
    {"reply_query_duplication", &typed_reply_target<idl::duplication_query_response>},
    {"reply_modify_duplication", &typed_reply_target<idl::duplication_modify_response>},
    {"reply_list_duplication", &typed_reply_target<idl::duplication_list_response>},
    {"reply_query_replica_decree", &typed_reply_target<idl::query_replica_decree_response>},
    {"reply_query_replica_info", &typed_reply_target<idl::query_replica_info_response>},
}};

} // namespace

std::span<const target> all_targets() {
    return targets;
}

const target* find_target(std::string_view name) {
    for (const auto& t : targets)
        if (t.name == name)
            return &t;
    return nullptr;
}

} // namespace tablemigrator::fuzz
