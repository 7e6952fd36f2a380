/* The program storm children exec: does nothing, statically linked so exec is cheap. */
int main(void) { return 0; }
