// SPDX-License-Identifier: MPL-2.0
// The C++ members of a bondcast element's instance struct (bondcastsink, bondcastsrc):
// GObject allocates the struct as C memory, so they are constructed in _init and destroyed
// in _finalize by hand, here once for both elements. An element has `settings_mu`,
// `settings`, `state_mu` and `state` (its running state, owned between start() and stop()).
#pragma once

#include <mutex>
#include <new>
#include <type_traits>

namespace bondcast::gst {

template <class Element>
void constructMembers(Element* self) {
  using Settings = std::remove_reference_t<decltype(self->settings)>;
  new (&self->settings_mu) std::mutex();
  new (&self->state_mu) std::mutex();
  new (&self->settings) Settings();
  self->state = nullptr;
}

template <class Element>
void destroyMembers(Element* self) {
  using Settings = std::remove_reference_t<decltype(self->settings)>;
  self->settings.~Settings();
  self->settings_mu.~mutex();
  self->state_mu.~mutex();
}

}  // namespace bondcast::gst
