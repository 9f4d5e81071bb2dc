// Everything a plugin author includes: the plugin API plus the SDK helpers.
#pragma once

#include "portico/plugin.hpp"
#include "portico/sdk/export.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/schema.hpp"
