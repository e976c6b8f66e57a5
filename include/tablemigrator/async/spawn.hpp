// Spawn helpers for coroutines nobody awaits (connection read loops, background refreshers).
// They never swallow anything: an exception escapes from io_context::run() because it is a bug,
// and an error result is logged with the label.
#pragma once

#include <tablemigrator/core/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <string>

namespace tablemigrator::async {

// Starts `work` on `ex`. A system_error carrying operation_aborted (a cancelled use_awaitable
// operation) counts as a normal stop; any other exception is logged and rethrown from the
// completion handler, i.e. out of io_context::run().
void spawn_logged(boost::asio::any_io_executor ex, boost::asio::awaitable<void> work,
                  std::string label);
// As above; an error result is logged at warn level with `label` (client_errc::cancelled at debug).
void spawn_logged(boost::asio::any_io_executor ex, boost::asio::awaitable<status> work,
                  std::string label);

// Cancellable variants: emitting on the signal that owns `slot` cancels `work`. The signal must
// outlive the work.
void spawn_logged(boost::asio::any_io_executor ex, boost::asio::awaitable<void> work,
                  std::string label, boost::asio::cancellation_slot slot);
void spawn_logged(boost::asio::any_io_executor ex, boost::asio::awaitable<status> work,
                  std::string label, boost::asio::cancellation_slot slot);

} // namespace tablemigrator::async
