/* POSIX name of Winsock's declarations for the tests: see ario_win_compat.h */
#include "ario_win_compat.h"
