// SPDX-License-Identifier: MPL-2.0
// The emulator's configuration is the network scenario the simulator reads too
// (common/netmodel/scenario.h); these declarations bring its names into the emulator's
// namespace.
#pragma once

#include "common/netmodel/scenario.h"

namespace bondcast::emu {

using net::Direction;
using net::DirectionChange;
using net::DirectionConfig;
using net::Endpoint;
using net::Event;
using net::ipv4ToString;
using net::kDefaultQueueTime;
using net::kNever;
using net::LinkConfig;
using net::LossSpec;
using net::Nanos;
using net::NetworkConfig;
using net::parseEndpoint;
using net::parseEvent;
using net::parseIpv4;
using net::parseLinkSpec;
using net::QueueLimit;
using net::RateSpec;
using net::TimedAction;
using net::timelineFor;
using net::toString;
using net::validate;

}  // namespace bondcast::emu
