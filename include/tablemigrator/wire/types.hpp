// Umbrella header for every wire struct: the Pegasus custom types (hand-written) and the
// thrift-generated types of src/idl/*.thrift, all in namespace tablemigrator::idl.
#pragma once

#include "dsn_base_types.h"
#include "meta_admin_types.h"
#include "replica_admin_types.h"
#include "request_meta_types.h"
#include "rrdb_types.h"
