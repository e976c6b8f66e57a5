// result<T>: the return type of every operation that can fail in an expected way.
// Failures are boost::system::error_code values (rDSN, client, ZooKeeper or system categories).
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace tablemigrator {

using error_code = boost::system::error_code;

template <class T>
using result = boost::system::result<T, error_code>;

// For operations that return nothing but can fail.
using status = boost::system::result<void, error_code>;

} // namespace tablemigrator
