// greeter.so: the plugin class (greeter.hpp) exported for the gateway.
#include "greeter.hpp"
#include "portico/sdk/export.hpp"

using GreeterPlugin = greeter::Plugin;
PORTICO_PLUGIN(GreeterPlugin);
