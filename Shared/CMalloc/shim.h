// C library calls Swift's Glibc module does not expose.
#pragma once
#include <malloc.h>
