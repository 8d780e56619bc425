package db

// The seed is the article "Top Backend Development Trends to Follow"
// (GeeksforGeeks, last updated 29 Jan 2024), transcribed as a content
// document. It holds only what the article states: nothing is added from
// outside knowledge, and whatever the article leaves unsaid (Django's
// creator, Laravel's language, most release years…) is left empty.
//
// Transcription rules, applied throughout:
//   - Page chrome ("Open In App", "Like Article", "Suggest improvement",
//     "Share your thoughts in the comments", "Similar Reads") is dropped.
//   - The article's wording is kept verbatim, including its grammar
//     ("the right frameworks ensure", "a valuable skills") and its own
//     characters (’ apostrophes). Only whitespace is normalised: stray
//     leading/trailing and non-breaking spaces are removed, and a space
//     before a parenthesis is moved after it ("Service( BaaS)" becomes
//     "Service (BaaS)", "DRY( Don’t" becomes "DRY (Don’t").
//   - Typos fixed are noted where they occur.
//   - "•" bullets become Markdown "- " items; a bullet of the form
//     "Title: text" becomes "- **Title**: text". Highlights carry the same
//     bullets as plain strings, without the Markdown.
//   - Cross-references to other pages ("Backend Developer Roadmap",
//     "10 Skills to Become a Backend Developer in 2024") are article text and
//     are kept as plain text; the page does not give their addresses, so no
//     links are invented.

// ArticleContent returns the article as a content document: the seed loaded into every new database.
func ArticleContent() *Content {
	return &Content{
		Format: ContentFormat,
		Article: &ArticleDoc{
			// The page's heading reads "Top Backend Development Trends to
			// Follow [2024 Updated]". The bracketed "[2024 Updated]" is an
			// SEO freshness tag, page furniture like the "Last Updated"
			// line, not part of the title: it is dropped. The date it
			// refers to is kept in LastUpdated.
			Title:       "Top Backend Development Trends to Follow",
			LastUpdated: "2024-01-29", // "Last Updated : 29 Jan, 2024"
			// The intro is the two opening paragraphs, followed by the two
			// paragraphs that in the article stand between the third
			// section and trend 1: the transition "Backend developers are
			// currently in great demand but…" (after the benefits list) and
			// the lead-in under the repeated heading "Top Backend
			// Development Trends to Follow" (the heading itself is dropped:
			// it repeats the title). Both frame the list of trends rather
			// than belong to an explanatory section, and the document has
			// no other place for text that surrounds the trends; their
			// wording ("In the next section…") is kept verbatim.
			Intro: "The software development industry is expanding rapidly due to technological advancements. " +
				"Backend development is the backbone of software development; it acts as a funnel between the front end and the database. " +
				"Backend developers have endless options for developing, deploying, and managing server-side applications.\n\n" +
				"In this blog, we will discuss in detail about top 10 backend development trends. " +
				"We will also discuss backend development, the roles, and responsibilities of backend developers, and the benefits of using backend frameworks. " +
				"So let’s get started and explore these best backend development trends.\n\n" +
				"Backend developers are currently in great demand but the demand for specific technologies, tools, frameworks, and languages shift with rapid change in technological advancements. " +
				"In the next section, we will discuss in detail the best backend development trends in 2024.\n\n" +
				"In the current technological landscape, several trending backend technologies are shaping the industry. " +
				"Key among these are backend as a service (BaaS), serverless computing, Spring Boot, and Go. " +
				"Let’s delve into these backend development trends to understand their impact and relevance in 2024.",
			Sections: []SectionDoc{
				{
					Heading: "What is Backend Development?",
					Body: "Web development activities that are done on the backend of the application are called backend development. " +
						"Backend development covers server-side development, application integration, and activities like creating libraries and writing APIs. " +
						"It focuses on application architecture so it is really crucial to choose the right backend development technology. " +
						"It functions as a process that sends and receives information to coordinate with the front end and display data.\n\n" +
						"Backend developers use tools like Oracle, MySQL, and SQL for reading, creating, updating, and deleting data which is then sent back to the front of the application.\n\n" +
						"To get more information about how to become a backend developer must refer to Backend Developer Roadmap.",
				},
				{
					Heading: "Who is a Backend Developer?",
					Body: "So now you have got the information about backend development it’s time to understand who backend developers are, and their roles and responsibilities. " +
						"A backend developer focuses on writing code that communicates between the website database and the user. " +
						"As per the reports by the US Bureau of Labor and Statistics, this profession is expected to grow 13% by the year 2028, due to the increasing popularity of mobile devices and the e-commerce industry.\n\n" +
						"Some of the important skills that backend developers need to master are backend programming language, knowledge of backend frameworks, version control system, server handling, problem-solving, and communication skills. " +
						"To get detailed information about the skills required to become a backend developer must refer to 10 Skills to Become a Backend Developer in 2024.",
				},
				{
					Heading: "What are the Benefits of using Backend Frameworks?",
					Body: "The main objective of using Backend frameworks is to simplify the development process by using tools and libraries that can be used for web application development. " +
						"Some of the advantages of using Backend frameworks are:\n\n" +
						"- **Enhanced security**: The use of backend frameworks provides enhanced security measures like encryption, data validation, and authentication.\n" +
						"- **Faster development**: The presence of the right frameworks ensure that developers can complete the tasks quickly. Also using these frameworks helps in automation that saves some time so developers can focus on complex tasks.\n" +
						"- **Cost-effectiveness**: Using backend development frameworks help to save time which reduces the development costs to a great extent.\n" +
						"- **Scalability**: Backend frameworks help developers to scale their applications quickly as per the business requirement.",
				},
			},
			Conclusion: "Backend developers are currently in great demand and top tech giants are paying exceptionally well to hire these professionals. " +
				"Currently, there are so many backend development technologies so choosing the right one is really crucial. " +
				"The right backend technology ensures enhanced scalability and provides instant response to customer requirements. " +
				"So these are the top ten backend technologies and tools that are currently trending and will continue to trend in 2024. " +
				"To grow your career in the backend development domain ensure to stay updated with all these backend development trends",
		},

		// One company per distinct name the article gives as a user of a
		// framework or a provider of a trend, sorted by slug. Mozilla
		// (Django, Elixir) and Google (Spring Boot, Go) are named twice and
		// have one row each. "Microsoft" (a Spring Boot user) and
		// "Microsoft Azure" (a BaaS provider), like "Amazon" and "AWS", are
		// distinct names in the article and are kept as distinct companies.
		// Names the article gives only as products (AWS Lambda, Google Cloud
		// Functions, IBM OpenWhisk…), tools (Oracle, MySQL) or sources (Stack
		// Overflow, the US Bureau of Labor and Statistics) are not companies
		// of any trend or framework and are not listed.
		Companies: []CompanyDoc{
			{Slug: "9gag", Name: "9GAG", Status: StatusPublished},
			{Slug: "accenture", Name: "Accenture", Status: StatusPublished},
			{Slug: "alibaba", Name: "Alibaba", Status: StatusPublished},
			{Slug: "amazon", Name: "Amazon", Status: StatusPublished},
			{Slug: "american-express", Name: "American Express", Status: StatusPublished},
			{Slug: "aws", Name: "AWS", Status: StatusPublished},
			{Slug: "bbc", Name: "BBC", Status: StatusPublished},
			{Slug: "crowdcube", Name: "Crowdcube", Status: StatusPublished},
			{Slug: "discord", Name: "Discord", Status: StatusPublished},
			{Slug: "disqus", Name: "Disqus", Status: StatusPublished},
			// The article's spelling "DropBox" is kept as the name: it is
			// how the article names the company, and the seed does not
			// correct names from outside knowledge. The slug is "dropbox".
			{Slug: "dropbox", Name: "DropBox", Status: StatusPublished},
			{Slug: "firebase", Name: "Firebase", Status: StatusPublished},
			{Slug: "google", Name: "Google", Status: StatusPublished},
			{Slug: "ifood", Name: "iFood", Status: StatusPublished},
			{Slug: "instagram", Name: "Instagram", Status: StatusPublished},
			{Slug: "intuit", Name: "Intuit", Status: StatusPublished},
			{Slug: "lenovo", Name: "Lenovo", Status: StatusPublished},
			{Slug: "microsoft", Name: "Microsoft", Status: StatusPublished},
			{Slug: "microsoft-azure", Name: "Microsoft Azure", Status: StatusPublished},
			{Slug: "mozilla", Name: "Mozilla", Status: StatusPublished},
			{Slug: "pedidosya", Name: "PedidosYa", Status: StatusPublished},
			{Slug: "pepsico", Name: "PepsiCo", Status: StatusPublished},
			{Slug: "pfizer", Name: "Pfizer", Status: StatusPublished},
			{Slug: "pinterest", Name: "Pinterest", Status: StatusPublished},
			{Slug: "prezi", Name: "Prezi", Status: StatusPublished},
			// Laravel's list names "Ratio Razorpay" as one comma-separated
			// item. It is read as one company, Razorpay, with "Ratio" a
			// stray word (an editing leftover): nothing in the article
			// supports a company called "Ratio", and splitting the item in
			// two would add a company the text does not clearly name. The
			// trend body keeps the article's words verbatim.
			{Slug: "razorpay", Name: "Razorpay", Status: StatusPublished},
			{Slug: "spotify", Name: "Spotify", Status: StatusPublished},
			{Slug: "trivago", Name: "Trivago", Status: StatusPublished},
			{Slug: "twitch", Name: "Twitch", Status: StatusPublished},
			{Slug: "uber", Name: "Uber", Status: StatusPublished},
			{Slug: "udemy", Name: "Udemy", Status: StatusPublished},
		},

		// The six frameworks and languages that are trends of their own,
		// sorted by slug. Companies are in the article's order.
		Frameworks: []FrameworkDoc{
			{
				Slug: "django",
				Name: "Django",
				Kind: KindFramework,
				// "a high-level framework developed by Python": a framework
				// is not developed by a language, so this is read as
				// "written in Python".
				Language: "Python",
				// The article names no creator and no release year.
				// "follows model-view-template architectural patterns";
				// "(MVT)" is only the initials of those words, given for
				// parity with Rails' "MVC".
				Architecture: "model-view-template (MVT)",
				Summary: "Django is a high-level Python framework that follows the model-view-template architectural pattern and keeps code logically organized into layers. " +
					"It handles the controller aspects, so you only specify the data view and presentation templates, and it offers code reusability and rapid development with minimal effort.",
				// The titles of the article's four bullets, verbatim
				// ("Highly Scalable" keeps its capital). "Code reusability",
				// named in the running text, is in the summary.
				Features: []string{
					"Enhanced security",
					"Rapid development",
					"Highly Scalable",
					"Great community support",
				},
				Companies: []string{"spotify", "instagram", "prezi", "mozilla", "pinterest", "disqus"},
				Status:    StatusPublished,
			},
			{
				Slug: "elixir",
				Name: "Elixir",
				Kind: KindLanguage,
				// A language: its language is itself.
				Language:      "Elixir",
				FirstReleased: seedYear(2011), // "It was created in 2011"
				Summary: "Elixir is a programming language with a simple syntax, used for building and maintaining applications. " +
					"It was created in 2011 and is currently one of the most loved programming languages as per Stack Overflow.",
				// The section has no feature list; "a simple syntax" is the
				// only property of the language the text gives.
				Features:  []string{"Simple syntax"},
				Companies: []string{"pepsico", "discord", "mozilla"},
				Status:    StatusPublished,
			},
			{
				Slug: "go",
				Name: "Go", // "Go or GoLang"
				Kind: KindLanguage,
				// A language: its language is itself.
				Language:      "Go",
				Creator:       "Google",       // "developed by Google in 2009"
				FirstReleased: seedYear(2009), // read "developed … in 2009" as its first release
				// "Object-oriented" is the article's claim, kept as stated.
				Summary: "Go, or GoLang, is an object-oriented, general-purpose programming language developed by Google in 2009. " +
					"It is used in a wide range of applications.",
				// The article's seven bullets, with their trailing commas
				// and spaces removed.
				Features: []string{
					"Provides Powerful performance",
					"Simplified code",
					"Designed for multi-core processors",
					"Fast garbage collection",
					"Easy to learn and understand",
					"Easy to maintain",
					"Provides enhanced scalability",
				},
				Companies: []string{"uber", "dropbox", "twitch", "alibaba", "american-express", "google"},
				Status:    StatusPublished,
			},
			{
				Slug: "laravel",
				Name: "Laravel",
				Kind: KindFramework,
				// The article never says what language Laravel is written
				// in, nor when it was released: both are left empty.
				Creator: "Taylor Otwell", // "created by Taylor Otwell"
				Summary: "Laravel is a free and open-source framework created by Taylor Otwell to foster web application development. " +
					"It has a simple and elegant syntax and is considered ideal for backend development by experts.",
				Features: []string{
					"Great flexibility",
					"High performance",
					"Easy maintenance",
					"Automated testing",
				},
				Companies: []string{"9gag", "crowdcube", "pedidosya", "razorpay", "pfizer", "bbc", "lenovo"},
				Status:    StatusPublished,
			},
			{
				Slug:         "ruby-on-rails",
				Name:         "Ruby on Rails",
				Kind:         KindFramework,
				Language:     "Ruby", // "written in the Ruby programming language"
				Architecture: "MVC",  // "It supports MVC architecture"
				Summary: "Ruby on Rails is a server-side web application development framework written in the Ruby programming language. " +
					"It supports MVC architecture and uses the software engineering paradigms DRY (Don’t repeat yourself) and CoC (Convention over Configuration).",
				// The titles of the "key features" bullets. DRY and CoC are
				// paradigms, not features: they are in the summary.
				Features: []string{
					"Speedy software development",
					"Safe and secure",
					"Highly scalable",
				},
				// The article names no company that uses Rails.
				Companies: []string{},
				Status:    StatusPublished,
			},
			{
				Slug:     "spring-boot",
				Name:     "Spring Boot",
				Kind:     KindFramework,
				Language: "Java", // "an open-source Java-based framework"
				Summary: "Spring Boot is an open-source Java-based framework that helps you create production-grade standalone applications. " +
					"It helps developers to start rapidly without wasting time on configuration and preparation.",
				// The article's four advantage bullets, shortened to
				// phrases without changing what they claim.
				Features: []string{
					"Highly flexible and scalable",
					"Saves a lot of memory space",
					"No XML configuration and WAR files required",
					"Powerful batch processing and REST endpoint management",
				},
				Companies: []string{"google", "trivago", "accenture", "microsoft", "intuit", "amazon", "udemy", "ifood"},
				Status:    StatusPublished,
			},
		},

		// The ten trends in the article's order. Summary is the section's
		// first sentence; where it opens with "It", the pronoun is replaced
		// by the trend's name. Categories: BaaS, serverless computing and
		// headless CMS are ways to build or run a backend (the article
		// describes a "cloud-based model", a "cloud computing model" and a
		// "setup" in which frontend and backend are separated), so
		// ARCHITECTURE; the four frameworks are FRAMEWORK; Elixir and Go
		// are "a programming language", so LANGUAGE; a static site
		// generator is "a tool that generates a full static HTML website",
		// so TOOLING.
		Trends: []TrendDoc{
			{
				Slug: "backend-as-a-service",
				Rank: 1,
				// The heading reads "Backend as Service( BaaS)". It is
				// normalised to "Backend as a Service (BaaS)": the
				// misplaced space is fixed, and the missing "a" is restored
				// as the article itself writes it in its lead-in ("backend
				// as a service (BaaS)") and in the section ("In the backend
				// as a service model").
				Name:     "Backend as a Service (BaaS)",
				Category: CategoryArchitecture,
				Summary:  "Backend as a Service (BaaS) refers to a cloud-based model where technical teams outsource the backend services of an application to an external service provider.",
				Body: "Backend as Service (BaaS) refers to a cloud-based model where technical teams outsource the backend services of an application to an external service provider. " +
					"BaaS vendors provide services like pre-written software for activities that take place on the server side like database management, server authentication, push notification, and a lot more.\n\n" +
					"In the backend as a service model developers manage the backend using SDKs and APIs. " +
					"This service helps in-house developers to focus more on writing code and maintaining the front end that fosters faster building of applications. " +
					"Some of the popular BaaS service providers are AWS, Microsoft Azure, and Firebase",
				Highlights: []string{},
				// AWS, Microsoft Azure and Firebase are named as service
				// providers, not as examples of BaaS products: they are the
				// trend's companies.
				Examples:   []string{},
				Frameworks: []string{},
				Companies:  []string{"aws", "microsoft-azure", "firebase"},
				Status:     StatusPublished,
			},
			{
				Slug:     "django",
				Rank:     2,
				Name:     "Django",
				Category: CategoryFramework,
				Summary:  "Django is a high-level framework developed by Python that follows model-view-template architectural patterns.",
				Body: "It is a high-level framework developed by Python that follows model-view-template architectural patterns. " +
					"It helps you to keep the code logically organized into layers. " +
					"Django handles controller aspects of the model, so you just need to take care of the specification of the data view and presentation templates. " +
					"This framework provides some key features like code reusability, rapid development and takes minimal effort. " +
					"Top companies that use Django are Spotify, Instagram, Prezi, Mozilla, Pinterest, Disqus, etc. " +
					"Some of the key features of Django are:\n\n" +
					"- **Enhanced security**: Django provides enhanced security features, users can manage their passwords and accounts with its user authentication system.\n" +
					"- **Rapid development**: The use of Django fosters rapid development, generally project implementation takes a longer time but with Django, it happens quickly.\n" +
					"- **Highly Scalable**: Django provides enhanced scalability with an ability to switch easily from small to large-scale projects.\n" +
					"- **Great community support**: This framework has a large user base with a lot of talented individuals continuously working to improve the software.",
				Highlights: []string{
					"Enhanced security: Django provides enhanced security features, users can manage their passwords and accounts with its user authentication system.",
					"Rapid development: The use of Django fosters rapid development, generally project implementation takes a longer time but with Django, it happens quickly.",
					"Highly Scalable: Django provides enhanced scalability with an ability to switch easily from small to large-scale projects.",
					"Great community support: This framework has a large user base with a lot of talented individuals continuously working to improve the software.",
				},
				Examples:   []string{},
				Frameworks: []string{"django"},
				Companies:  []string{"spotify", "instagram", "prezi", "mozilla", "pinterest", "disqus"},
				Status:     StatusPublished,
			},
			{
				Slug:     "serverless-computing",
				Rank:     3,
				Name:     "Serverless Computing",
				Category: CategoryArchitecture,
				Summary:  "Serverless computing is a cloud computing model in which a cloud provider allocates resources on demand, further taking care of servers on behalf of customers.",
				Body: "It is a cloud computing model in which a cloud provider allocates resources on demand, further taking care of servers on behalf of customers. " +
					"Since the application is cloud native so developers don’t have to worry about infrastructure management, server availability, or idle time. " +
					"Some of the common examples of serverless computing are AWS Lambda, Google Cloud Functions, IBM OpenWhisk, and Microsoft Azure Functions.\n\n" +
					"Some advantages of Serverless computing are:\n\n" +
					"- Serverless architectures are highly scalable.\n" +
					"- It fosters quick deployments and updates.\n" +
					"- Developers are charged on a pay-as-you-go plan\n" +
					"- No server management is required",
				Highlights: []string{
					"Serverless architectures are highly scalable.",
					"It fosters quick deployments and updates.",
					"Developers are charged on a pay-as-you-go plan",
					"No server management is required",
				},
				Examples:   []string{"AWS Lambda", "Google Cloud Functions", "IBM OpenWhisk", "Microsoft Azure Functions"},
				Frameworks: []string{},
				Companies:  []string{},
				Status:     StatusPublished,
			},
			{
				Slug:     "laravel",
				Rank:     4,
				Name:     "Laravel",
				Category: CategoryFramework,
				Summary:  "Laravel is a free and open-source framework created by Taylor Otwell with the intention to foster web application development.",
				Body: "Laravel is a free and open-source framework created by Taylor Otwell with the intention to foster web application development. " +
					"Laravel has a simple and elegant syntax that adds amazing functionality to code. " +
					"It is one of the top backend web development frameworks that is considered ideal for backend development by experts. " +
					"It is used by some of the top companies like 9GAG, Crowdcube, PedidosYa, Ratio Razorpay, Pfizer, BBC, Lenovo, and a lot more. " +
					"Some of the major advantages of using Laravel are:\n\n" +
					"- **Great flexibility**: It offers enhanced flexibility due to the presence of pre-installed libraries that have the ability to create and maintain advanced features.\n" +
					"- **High performance**: Laravel can handle requests much faster than most of the other frameworks. It has a unique queuing system that allows you to postpone certain website tasks which fosters high performance.\n" +
					"- **Easy maintenance**: Websites built on Laravel are easy to maintain and manage.\n" +
					"- **Automated testing**: This feature allows users to test application performance and ensures that the solution performs without any glitches.",
				Highlights: []string{
					"Great flexibility: It offers enhanced flexibility due to the presence of pre-installed libraries that have the ability to create and maintain advanced features.",
					"High performance: Laravel can handle requests much faster than most of the other frameworks. It has a unique queuing system that allows you to postpone certain website tasks which fosters high performance.",
					"Easy maintenance: Websites built on Laravel are easy to maintain and manage.",
					"Automated testing: This feature allows users to test application performance and ensures that the solution performs without any glitches.",
				},
				Examples:   []string{},
				Frameworks: []string{"laravel"},
				// "Ratio Razorpay" is read as Razorpay: see the company.
				Companies: []string{"9gag", "crowdcube", "pedidosya", "razorpay", "pfizer", "bbc", "lenovo"},
				Status:    StatusPublished,
			},
			{
				Slug:     "headless-cms",
				Rank:     5,
				Name:     "Headless CMS",
				Category: CategoryArchitecture,
				Summary:  "A headless content management system is a highly powerful and flexible way to manage content.",
				Body: "A headless content management system is a highly powerful and flexible way to manage content. " +
					"It separates the content body from the presentation layer. " +
					"This system provides flexibility to manage content and deliver it to the frontend environment. " +
					"This makes it easier for developers to manage the tech stack. " +
					"In this setup, the frontend and backend of the application are separated which makes it easier to mitigate targeted attacks. " +
					"Some of the common examples of Headless CMS are Strapi, Netlify CMS, Sanity, and WordPress.",
				Highlights: []string{},
				Examples:   []string{"Strapi", "Netlify CMS", "Sanity", "WordPress"},
				Frameworks: []string{},
				Companies:  []string{},
				Status:     StatusPublished,
			},
			{
				Slug:     "spring-boot",
				Rank:     6,
				Name:     "Spring Boot",
				Category: CategoryFramework,
				// The section opens "Spring boot is…"; the summary uses the
				// heading's capitalisation, "Spring Boot".
				Summary: "Spring Boot is an open-source Java-based framework that helps you create production-grade standalone applications.",
				Body: "Spring boot is an open-source Java-based framework that helps you create production-grade standalone applications. " +
					"It helps developers to start rapidly without wasting time on configuration and preparation. " +
					"Top companies that use Spring Boot are Google, Trivago, Accenture, Microsoft, Intuit, Amazon, Udemy, iFood, etc. " +
					"Some of the major advantages of using Spring Boot are:\n\n" +
					"- Spring Boot is highly flexible and scalable.\n" +
					"- Using spring boot saves a lot of memory space.\n" +
					"- For using spring boot no XML configuration and WAR files are required.\n" +
					"- It can perform powerful batch processing and manage REST endpoints.",
				Highlights: []string{
					"Spring Boot is highly flexible and scalable.",
					"Using spring boot saves a lot of memory space.",
					"For using spring boot no XML configuration and WAR files are required.",
					"It can perform powerful batch processing and manage REST endpoints.",
				},
				Examples:   []string{},
				Frameworks: []string{"spring-boot"},
				Companies:  []string{"google", "trivago", "accenture", "microsoft", "intuit", "amazon", "udemy", "ifood"},
				Status:     StatusPublished,
			},
			{
				Slug:     "static-site-generators",
				Rank:     7,
				Name:     "Static Site Generators",
				Category: CategoryTooling,
				Summary:  "A static site generator is a tool that generates a full static HTML website based on raw data.",
				Body: "It is a tool that generates a full static HTML website based on raw data. " +
					"It automates the task of coding HTML pages and gets those pages ready to serve. " +
					"These HTML pages are pre-built so they load very quickly in users’ browsers. " +
					"For backend developers, the major advantage is that the website doesn’t need server-side processes to run. " +
					"Apart from this, the website built using static generators is highly customizable. " +
					"Developers use a number of static generators using Hugo, Eleventy, Pelican, and Gatsby.",
				Highlights: []string{},
				// "Developers use a number of static generators using Hugo,
				// Eleventy, Pelican, and Gatsby": read as these four being
				// the static site generators named.
				Examples:   []string{"Hugo", "Eleventy", "Pelican", "Gatsby"},
				Frameworks: []string{},
				Companies:  []string{},
				Status:     StatusPublished,
			},
			{
				Slug:     "elixir",
				Rank:     8,
				Name:     "Elixir",
				Category: CategoryLanguage,
				Summary:  "Elixir is a programming language that has a simple syntax and is used for building and maintaining applications.",
				Body: "Elixir is a programming language that has a simple syntax and is used for building and maintaining applications. " +
					"It was created in 2011 and is currently one of the most loved programming languages as per Stack Overflow. " +
					"It is used by some of the popular organizations like PepsiCo, Discord, and Mozilla.",
				Highlights: []string{},
				Examples:   []string{},
				Frameworks: []string{"elixir"},
				Companies:  []string{"pepsico", "discord", "mozilla"},
				Status:     StatusPublished,
			},
			{
				Slug:     "go",
				Rank:     9,
				Name:     "Go",
				Category: CategoryLanguage,
				Summary:  "Go or GoLang is an Object-oriented programming language developed by Google in 2009.",
				// The bullets' trailing commas ("Fast garbage collection,")
				// are dropped as list punctuation.
				Body: "Go or GoLang is an Object-oriented programming language developed by Google in 2009. " +
					"It is a general-purpose programming language that is used in a wide range of applications. " +
					"Companies that use Go in their tech stacks are Uber, DropBox, Twitch, Alibaba, American Express, and Google.\n\n" +
					"Some of the key features of Go are:\n\n" +
					"- Provides Powerful performance\n" +
					"- Simplified code\n" +
					"- Designed for multi-core processors\n" +
					"- Fast garbage collection\n" +
					"- Easy to learn and understand\n" +
					"- Easy to maintain\n" +
					"- Provides enhanced scalability",
				Highlights: []string{
					"Provides Powerful performance",
					"Simplified code",
					"Designed for multi-core processors",
					"Fast garbage collection",
					"Easy to learn and understand",
					"Easy to maintain",
					"Provides enhanced scalability",
				},
				Examples:   []string{},
				Frameworks: []string{"go"},
				Companies:  []string{"uber", "dropbox", "twitch", "alibaba", "american-express", "google"},
				Status:     StatusPublished,
			},
			{
				Slug:     "ruby-on-rails",
				Rank:     10,
				Name:     "Ruby on Rails",
				Category: CategoryFramework,
				Summary:  "Ruby on Rails is a server-side web application development framework written in the Ruby programming language.",
				Body: "Ruby on Rails is a server-side web application development framework written in the Ruby programming language. " +
					"It supports MVC architecture and uses software engineering paradigms like\n\n" +
					"- **DRY (Don’t repeat yourself)**: It is a principle of software development that reduces the repetition of code.\n" +
					"- **CoC (Convention over Configuration)**: It provides a lot of options for the best way to do things in web applications.\n\n" +
					"Some of the key features of Ruby on Rails are:\n\n" +
					"- **Speedy software development**: RoR is fast and it saves a lot of time by simplifying complex tasks, thus accomplishing goals faster. It enhances productivity and is easy to maintain.\n" +
					"- **Safe and secure**: It is highly safe and secure. Further, it supports both behavior-driven and test-driven development.\n" +
					"- **Highly scalable**: RoR scalability helps developers to handle bigger responsibilities. The project can be increased in magnitude easily without compromising the quality.",
				// Both of the section's bullet lists, in order: the two
				// paradigms (DRY, CoC), then the three key features.
				Highlights: []string{
					"DRY (Don’t repeat yourself): It is a principle of software development that reduces the repetition of code.",
					"CoC (Convention over Configuration): It provides a lot of options for the best way to do things in web applications.",
					"Speedy software development: RoR is fast and it saves a lot of time by simplifying complex tasks, thus accomplishing goals faster. It enhances productivity and is easy to maintain.",
					"Safe and secure: It is highly safe and secure. Further, it supports both behavior-driven and test-driven development.",
					"Highly scalable: RoR scalability helps developers to handle bigger responsibilities. The project can be increased in magnitude easily without compromising the quality.",
				},
				Examples:   []string{},
				Frameworks: []string{"ruby-on-rails"},
				// The article names no company that uses Rails.
				Companies: []string{},
				Status:    StatusPublished,
			},
		},

		FAQs: []FAQDoc{
			{
				Slug:     "what-are-the-backend-development-trends-for-2024",
				Position: 1,
				Question: "What are the backend development trends for 2024?",
				// Typo fixed: "Developemnt" → "Development". The first item
				// reads "Backend as Service( BaaS)" in the article; it is
				// given the trend's normalised name.
				Answer: "The Latest Backend Development trends are:\n\n" +
					"1. Backend as a Service (BaaS)\n" +
					"2. Django\n" +
					"3. Serverless Computing\n" +
					"4. Laravel\n" +
					"5. Headless CMS\n" +
					"6. Spring Boot\n" +
					"7. Static Site Generators\n" +
					"8. Elixir\n" +
					"9. Go\n" +
					"10. Ruby on Rails",
				Items: []string{
					"Backend as a Service (BaaS)",
					"Django",
					"Serverless Computing",
					"Laravel",
					"Headless CMS",
					"Spring Boot",
					"Static Site Generators",
					"Elixir",
					"Go",
					"Ruby on Rails",
				},
				Frameworks: []string{},
				Trends: []string{
					"backend-as-a-service",
					"django",
					"serverless-computing",
					"laravel",
					"headless-cms",
					"spring-boot",
					"static-site-generators",
					"elixir",
					"go",
					"ruby-on-rails",
				},
				Status: StatusPublished,
			},
			{
				Slug:     "which-is-the-best-backend-framework-in-2024",
				Position: 2,
				Question: "Which is the best backend framework in 2024?",
				// The list names frameworks (Go, a language, among them, as
				// the article has it), so it links to frameworks, not trends.
				Answer: "The best backend framework for a backend developer are:\n\n" +
					"1. Django\n" +
					"2. Laravel\n" +
					"3. Spring Boot\n" +
					"4. Go\n" +
					"5. Ruby on Rails",
				Items:      []string{"Django", "Laravel", "Spring Boot", "Go", "Ruby on Rails"},
				Frameworks: []string{"django", "laravel", "spring-boot", "go", "ruby-on-rails"},
				Trends:     []string{},
				Status:     StatusPublished,
			},
			{
				Slug:     "should-i-learn-backend-in-2024",
				Position: 3,
				Question: "Should I learn backend in 2024?",
				// Typo fixed: "Developement" → "Development". "a valuable
				// skills" is kept as written.
				Answer: "Backend development involves creating and maintaining the server-side logic, databases, and APIs that power web applications and services. " +
					"So learning Backend Development is a valuable skills.",
				Items:      []string{},
				Frameworks: []string{},
				Trends:     []string{},
				Status:     StatusPublished,
			},
			{
				Slug:     "which-backend-language-is-the-fastest",
				Position: 4,
				Question: "Which backend language is the fastest?",
				// Java is not a framework of the seed, so nothing is linked.
				Answer:     "It depends upon the project requirement which language is the best and fastest but Overall Java is considered fastest Backend Programming Language.",
				Items:      []string{},
				Frameworks: []string{},
				Trends:     []string{},
				Status:     StatusPublished,
			},
		},
	}
}

// seedYear returns a pointer to a year, for FrameworkDoc.FirstReleased.
func seedYear(year int) *int { return &year }
