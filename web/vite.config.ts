import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The dev server forwards the API and the relay to a Switchyard on :3000,
// so `npm run dev` works against a local `go run .`.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': 'http://localhost:3000',
      '/v1': 'http://localhost:3000',
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Charts are only on the dashboard; keep them out of the first page.
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      output: {
        manualChunks: {
          react: ['react', 'react-dom', 'react-router-dom'],
          mantine: ['@mantine/core', '@mantine/hooks', '@mantine/notifications'],
        },
      },
    },
  },
});
