// The one translation unit that compiles Asio and Beast (BOOST_*_SEPARATE_COMPILATION is set
// project-wide, so every other file includes only declarations: faster builds on 2 cores).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
