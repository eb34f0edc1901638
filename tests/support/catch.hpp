// The one place that names the Catch2 header (v2 from Debian 12), so moving to v3 is one line.
#pragma once
#include <catch2/catch.hpp>
