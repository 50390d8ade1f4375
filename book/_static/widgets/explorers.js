/* coursecnn explorers: static, kernel-free twins of coursecnn.widgets (being written). */
