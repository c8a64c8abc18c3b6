# promo-stream app image: one image, the part is chosen by the command (all, processor, simulator, server).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV NODE_ENV=production
EXPOSE 8080
ENTRYPOINT ["node", "scripts/start.mjs"]
CMD ["all"]
