from image_service.main import main

raise SystemExit(main())
