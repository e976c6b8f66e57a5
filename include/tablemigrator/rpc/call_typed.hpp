// Typed calls: serialize an IDL request struct, send it through an rpc_session, decode the reply
// (STRUCT result for meta RPCs, STRING result for the remote command). The request is serialized
// before the first suspension, so passing it by reference is safe.
#pragma once

#include <tablemigrator/rpc/session.hpp>
#include <tablemigrator/wire/message.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace tablemigrator::rpc {

namespace detail {

template <class Resp>
boost::asio::awaitable<result<Resp>>
call_and_decode(std::shared_ptr<rpc_session> s, std::string name, wire::request_header h,
                wire::bytes args, std::chrono::milliseconds timeout) {
    // Named awaitable: g++ 12 mishandles class-type temporaries inside a co_await expression.
    auto op = s->call(std::move(name), h, std::move(args), timeout);
    auto frame = co_await std::move(op);
    if (!frame)
        co_return result<Resp>(boost::system::in_place_error, frame.error());
    co_return wire::decode_reply<Resp>(*frame);
}

inline boost::asio::awaitable<result<std::string>>
call_and_decode_string(std::shared_ptr<rpc_session> s, std::string name, wire::request_header h,
                       wire::bytes args, std::chrono::milliseconds timeout) {
    auto op = s->call(std::move(name), h, std::move(args), timeout);
    auto frame = co_await std::move(op);
    if (!frame)
        co_return result<std::string>(boost::system::in_place_error, frame.error());
    co_return wire::decode_string_reply(*frame);
}

} // namespace detail

// Completion: the decoded response struct, or the call's error (rpc_session::call), or the
// frame's RPC-level error (e.g. ERR_HANDLER_NOT_FOUND) when error_name is not ERR_OK, or
// client_errc::decode_failed. The application-level `err` field inside Resp is the caller's to
// check. `session` must be owned by a shared_ptr (it is kept alive until completion).
template <class Resp, class Req>
boost::asio::awaitable<result<Resp>> call_typed(rpc_session& session, std::string name,
                                                wire::request_header header, const Req& request,
                                                std::chrono::milliseconds timeout) {
    return detail::call_and_decode<Resp>(session.shared_from_this(), std::move(name), header,
                                         wire::serialize_struct(request), timeout);
}

// For replies whose result field 0 is a STRING (RPC_CLI_CLI_CALL, the remote command).
template <class Req>
boost::asio::awaitable<result<std::string>>
call_for_string(rpc_session& session, std::string name, wire::request_header header,
                const Req& request, std::chrono::milliseconds timeout) {
    return detail::call_and_decode_string(session.shared_from_this(), std::move(name), header,
                                          wire::serialize_struct(request), timeout);
}

} // namespace tablemigrator::rpc
