/* SPDX-License-Identifier: MIT */
/*
 * volt.h: the umbrella header of Volt-C, an async runtime for C11.
 * Include this one; the volt/ sub-headers are grouped by module.
 */
#ifndef VOLT_H
#define VOLT_H

#include "volt/blocking.h"
#include "volt/broadcast.h"
#include "volt/bufio.h"
#include "volt/chan.h"
#include "volt/combinators.h"
#include "volt/common.h"
#include "volt/config.h"
#include "volt/coro.h"
#include "volt/fiber.h"
#include "volt/fs.h"
#include "volt/future.h"
#include "volt/group.h"
#include "volt/metrics.h"
#include "volt/mpsc.h"
#include "volt/net.h"
#include "volt/oneshot.h"
#include "volt/process.h"
#include "volt/runtime.h"
#include "volt/rw.h"
#include "volt/select.h"
#include "volt/shutdown.h"
#include "volt/signal.h"
#include "volt/sync.h"
#include "volt/task.h"
#include "volt/time.h"
#include "volt/watch.h"

#endif /* VOLT_H */
