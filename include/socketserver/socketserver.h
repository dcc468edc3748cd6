/* socketserver.h: everything, for programs. Python's `import socketserver`. */
#pragma once

#include "error.h"
#include "address.h"
#include "request.h"
#include "server.h"
#include "strategy.h"
#include "tcp.h"
#include "udp.h"
#include "unix.h"
#include "threading.h"
#include "threadpool.h"
#include "forking.h"
#include "combinations.h"
#include "handler.h"
#include "rfile.h"
#include "wfile.h"
#include "signals.h"
